using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Groups;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Web.Components.Pages.Contacts;
using WapBridge.Web.Components.Pages.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// Issue #19's dashboard on the real node and simulator: the instance page's Groups panel (cached list, refresh, new
/// group, invite link, participants' outcomes in words, live updates) and the Check numbers page (table, CSV).
/// </summary>
public sealed class GroupsDashboardTests : IAsyncLifetime
{
    /// <summary>Numbers ending 7777 refuse being added to groups by their privacy settings (the simulator then sends an invite).</summary>
    private const string InviteOnly = "255755007777";

    private readonly InstanceDashboardHarness h = new(TimeProvider.System, simulator: o => o.InviteOnlyPattern = "7777$", configure: services =>
    {
        // The harness brings the send path's services; here the intake runs too, as in the server.
        services.AddHostedService(sp => sp.GetRequiredService<MessageIntake>());
        services.AddSingleton<ContactDirectory>();
        services.AddGroups();
        services.AddSingleton<IInstanceEventObserver, GroupLiveNotices>();
    });
    private Customer customer = default!;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => customer = await h.StartAsCustomerAsync("Group shop");

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private GroupDirectory Groups => h.Ctx.Services.GetRequiredService<GroupDirectory>();

    private async Task<IRenderedComponent<ContainerFragment>> RenderPanelAsync(string instanceCode)
    {
        var view = await h.Ctx.Services.GetRequiredService<InstanceDashboard>().GetAsync(customer.Id, instanceCode, Ct);
        return h.Render<InstanceGroups>(b =>
        {
            b.AddAttribute(11, nameof(InstanceGroups.CustomerId), customer.Id);
            b.AddAttribute(12, nameof(InstanceGroups.View), view);
        });
    }

    private Task<Instance> ConnectedAsync(string phone) => h.ConnectedAsync(customer.Id, phone);

    private async Task CacheAsync(Instance instance, string jid, string subject, int size, string? ourRole)
    {
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);
        db.CachedGroups.Add(new CachedGroup
        {
            InstanceId = instance.Id, GroupJid = jid, Subject = subject, ParticipantsJson = "[]", Size = size, OurRole = ourRole, RefreshedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task The_panel_lists_the_cached_groups_with_size_and_our_role_and_offers_invite_links_only_to_admins()
    {
        var instance = await ConnectedAsync("255700444001");
        // Groups the simulator never heard of: listed, so the panel read the cache and did not ask WhatsApp.
        await CacheAsync(instance, "120363000000000001@g.us", "Suppliers", 12, null);
        await CacheAsync(instance, "120363000000000002@g.us", "Delivery team", 5, GroupRoles.Admin);
        await CacheAsync(instance, "120363000000000003@g.us", "Family", 1, GroupRoles.SuperAdmin);

        var cut = await RenderPanelAsync(instance.Code);

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=group-row]").Count));
        var rows = cut.FindAll("[data-testid=group-row]");
        // By subject, as the cache answers them.
        Assert.Equal(["Delivery team", "Family", "Suppliers"], rows.Select(r => r.QuerySelector("[data-testid=group-subject]")!.TextContent));
        Assert.Equal(["5 members", "1 member", "12 members"], rows.Select(r => r.QuerySelector("[data-testid=group-size]")!.TextContent));
        Assert.Equal(["Admin", "Super admin", "Member"], rows.Select(r => r.QuerySelector("[data-testid=group-role]")!.TextContent.Trim()));
        Assert.Equal([true, true, false], rows.Select(r => r.QuerySelector("[data-testid=copy-invite]") is not null));
        Assert.Equal([true, true, false], rows.Select(r => r.QuerySelector("[data-testid=add-participant]") is not null));
        Assert.Equal($"/chats/{instance.Code}/120363000000000001%40g.us", rows[2].QuerySelector("[data-testid=group-chat]")!.GetAttribute("href"));
    }

    [Fact]
    public async Task Refresh_on_an_instance_that_is_not_connected_says_so_in_plain_words()
    {
        var created = await h.Instances.CreateAsync(customer.Id, "Never paired", "simulator", "TZ");

        var cut = await RenderPanelAsync(created.InstanceId);
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-groups]"));
        cut.ClickOn("[data-testid=groups-refresh]");

        cut.WaitForAssertion(() => Assert.Equal(
            "This instance is not connected, so WhatsApp cannot be asked. Connect it (see its state above), then try again.",
            cut.Find("[data-testid=groups-error]").TextContent.Trim()));
    }

    [Fact]
    public async Task A_new_group_is_created_from_the_dialog_and_each_added_participants_outcome_is_said_in_words()
    {
        var instance = await ConnectedAsync("255700444002");
        var cut = await RenderPanelAsync(instance.Code);
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-groups]"));

        // The dialog names its own labels when something is missing.
        cut.ClickOn("[data-testid=new-group]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=new-group-subject] input"));
        cut.ClickOn("[data-testid=create-group]");
        cut.WaitForAssertion(() => Assert.Equal("Subject is required", cut.Find("[data-testid=new-group-error]").TextContent.Trim()));

        cut.Find("[data-testid=new-group-subject] input").Input("Weekend staff");
        cut.Find("[data-testid=new-group-participants] textarea").Input("+255 755 000 101\n0755000102");
        cut.ClickOn("[data-testid=create-group]");
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=group-row]")), TimeSpan.FromSeconds(10));
        var row = cut.Find("[data-testid=group-row]");
        Assert.Equal("Weekend staff", row.QuerySelector("[data-testid=group-subject]")!.TextContent);
        Assert.Equal("3 members", row.QuerySelector("[data-testid=group-size]")!.TextContent);
        Assert.Equal("Super admin", row.QuerySelector("[data-testid=group-role]")!.TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=new-group-dialog] [data-testid=create-group]"));

        // Add: one joins, one is already in, one refuses by privacy (an invite instead), one has no WhatsApp.
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=add-participant]").HasAttribute("disabled")));
        cut.ClickOn("[data-testid=add-participant]");
        // The add form appears in the click's render, which a loaded machine may finish after the click returns.
        cut.WaitForElement("[data-testid=add-submit]").Click();
        cut.WaitForAssertion(() => Assert.Equal("Participants to add is required", cut.Find("[data-testid=groups-error]").TextContent.Trim()));
        cut.Find("[data-testid=add-numbers] textarea").Input($"+255755000103, +255755000101\n+{InviteOnly}\n+255755009999");
        cut.ClickOn("[data-testid=add-submit]");

        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=participant-outcome]").Count), TimeSpan.FromSeconds(10));
        var outcomes = cut.FindAll("[data-testid=participant-outcome]");
        Assert.Equal([GroupParticipantStatuses.Added, GroupParticipantStatuses.AlreadyMember, GroupParticipantStatuses.InviteSent, GroupParticipantStatuses.NotOnWhatsApp],
            outcomes.Select(o => o.GetAttribute("data-status")));
        Assert.Equal("+255755000103: added", Squash(outcomes[0].TextContent));
        Assert.Equal("+255755000101: already in the group", Squash(outcomes[1].TextContent));
        Assert.Equal($"+{InviteOnly}: WhatsApp refused the add because of their privacy settings and sent them an invite", Squash(outcomes[2].TextContent));
        Assert.StartsWith("+255755009999: not on WhatsApp, so they cannot be added", Squash(outcomes[3].TextContent));
        cut.WaitForAssertion(() => Assert.Equal("4 members", cut.Find("[data-testid=group-size]").TextContent));
    }

    [Fact]
    public async Task Copy_invite_link_shows_the_link_even_when_the_browser_refuses_the_clipboard()
    {
        var instance = await ConnectedAsync("255700444003");
        var group = await Groups.CreateGroupAsync(customer.Id, instance.Code, null, "Customers", ["255755000201"], Ct);
        var copy = h.Ctx.JSInterop.Setup<bool>("wapbridge.copy", _ => true).SetResult(false);
        var cut = await RenderPanelAsync(instance.Code);
        cut.WaitForAssertion(() => cut.Find("[data-testid=copy-invite]"));

        cut.ClickOn("[data-testid=copy-invite]");

        cut.WaitForAssertion(() => cut.Find("[data-testid=invite-link-url]"), TimeSpan.FromSeconds(10));
        var link = cut.Find("[data-testid=invite-link-url]").TextContent;
        Assert.StartsWith(GroupDirectory.InviteLinkPrefix, link);
        Assert.Equal(link, await Groups.GetInviteLinkAsync(customer.Id, instance.Code, null, group.GroupId, Ct));
        Assert.Equal(link, copy.Invocations.Single().Arguments[0]);
        cut.WaitForAssertion(() => Assert.Contains("copy it by hand", cut.Find(".mud-snackbar").TextContent));
    }

    [Fact]
    public async Task A_group_changed_elsewhere_shows_in_the_panel_without_a_reload()
    {
        var instance = await ConnectedAsync("255700444004");
        var group = await Groups.CreateGroupAsync(customer.Id, instance.Code, null, "Old name", ["255755000301"], Ct);
        var cut = await RenderPanelAsync(instance.Code);
        cut.WaitForAssertion(() => Assert.Equal("Old name", cut.Find("[data-testid=group-subject]").TextContent));

        // Through the API: WhatsApp tells the instance (a group event), the cache takes it, the instance's topic announces it.
        await Groups.UpdateGroupAsync(customer.Id, instance.Code, null, group.GroupId, new EngineGroupChange(Subject: "New name"), Ct);
        cut.WaitForAssertion(() => Assert.Equal("New name", cut.Find("[data-testid=group-subject]").TextContent), TimeSpan.FromSeconds(10));

        await Groups.UpdateParticipantsAsync(customer.Id, instance.Code, null, group.GroupId, GroupParticipantActions.Add, ["255755000302"], Ct);
        cut.WaitForAssertion(() => Assert.Equal("3 members", cut.Find("[data-testid=group-size]").TextContent), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Check_numbers_answers_a_table_in_the_order_pasted_and_exports_the_same_columns_as_CSV()
    {
        await ConnectedAsync("255700444005");
        var download = h.Ctx.JSInterop.SetupVoid("wapbridge.download", _ => true);
        var cut = h.Render<CheckNumbersPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=check-numbers-input] textarea"));

        cut.ClickOn("[data-testid=check-submit]");
        cut.WaitForAssertion(() => Assert.Equal("Numbers: paste at least one phone number.", cut.Find("[data-testid=check-error]").TextContent.Trim()));
        cut.Find("[data-testid=check-numbers-input] textarea").Input(string.Join('\n', Enumerable.Range(0, 501).Select(i => $"+2557550{i:D5}")));
        cut.ClickOn("[data-testid=check-submit]");
        cut.WaitForAssertion(() => Assert.Contains("at most 500 at a time; you pasted 501", cut.Find("[data-testid=check-error]").TextContent));

        cut.Find("[data-testid=check-numbers-input] textarea").Input("+255 755 000 401, 0755000402\nshop\n+255755009999");
        cut.ClickOn("[data-testid=check-submit]");

        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=check-verdict]").Count), TimeSpan.FromSeconds(10));
        Assert.Empty(cut.FindAll("[data-testid=check-error]"));
        Assert.Equal(["+255755000401", "+255755000402", "shop", "+255755009999"], cut.FindAll("[data-testid=check-number]").Select(e => e.TextContent));
        Assert.Equal(["yes", "yes", "invalid", "no"], cut.FindAll("[data-testid=check-verdict]").Select(e => e.GetAttribute("data-verdict")));
        var reasons = cut.FindAll("[data-testid=check-reason]").Select(e => e.TextContent).ToList();
        Assert.Equal(["", ""], reasons.Take(2));
        Assert.StartsWith("Number is not a valid phone number: 'shop' contains letters", reasons[2]);
        var lids = cut.FindAll("[data-testid=check-lid]").Select(e => e.TextContent).ToList();
        Assert.All(lids.Take(2), lid => Assert.Matches(@"^\d{15}@lid$", lid));
        Assert.Equal("2 of 4 on WhatsApp", cut.Find("[data-testid=check-summary]").TextContent);

        cut.ClickOn("[data-testid=check-export]");
        cut.WaitForAssertion(() => Assert.Single(download.Invocations));
        var args = download.Invocations.Single().Arguments;
        Assert.Matches(@"^whatsapp-check-\d{8}-\d{4}\.csv$", (string)args[0]!);
        Assert.Equal("text/csv", args[2]);
        var lines = ((string)args[1]!).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("number,on_whatsapp,reason,lid", lines[0]);
        Assert.Equal($"+255755000401,yes,,{lids[0]}", lines[1]);
        Assert.Equal($"+255755000402,yes,,{lids[1]}", lines[2]);
        Assert.StartsWith("shop,invalid,\"Number is not a valid phone number: 'shop' contains letters", lines[3]);
        Assert.Equal("+255755009999,no,,", lines[4]);
        Assert.Equal(5, lines.Length);
    }

    private static string Squash(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ").Trim();
}
