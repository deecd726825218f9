using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Accounts;
using WapBridge.Core.Health;
using WapBridge.Core.Live;
using WapBridge.Core.Persistence;
using WapBridge.Web.Components.Pages.Instances;
using InstanceHealth = WapBridge.Core.Health.InstanceHealth;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// The instance's account health panel (contract §12): level in words and colour, the reasons, the day's new-contact
/// budget, warm-up, the reset at midnight in the instance's zone, and an override of protection that says what it risks.
/// </summary>
public sealed class InstanceHealthScoreTests : IAsyncLifetime
{
    private static readonly TimeZoneInfo DarEsSalaam = TimeZoneInfo.FindSystemTimeZoneById("Africa/Dar_es_Salaam");

    // Half a minute before midnight in Dar es Salaam (UTC+3): the budget resets at 21:00 UTC.
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 5, 20, 59, 30, TimeSpan.Zero));
    private readonly InstanceDashboardHarness h;
    private Customer customer = default!;

    public InstanceHealthScoreTests() => h = new InstanceDashboardHarness(time,
        configure: services => services.Configure<HealthOptions>(o => (o.WarmUp, o.WarmedUpDailyNewContacts) = (null, new HealthOptions().WarmedUpDailyNewContacts)));

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Duka Ltd");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private DateTimeOffset Reset => WarmUpSchedule.NextReset(time.GetUtcNow(), DarEsSalaam);

    private InstanceHealth Health(string level = HealthLevels.Good, int score = 100, IReadOnlyList<HealthReason>? reasons = null,
        int allowance = 30, int used = 0, int? warmUpDay = null, DateTimeOffset? restrictedUntil = null, DateTimeOffset? overriddenUntil = null) =>
        new(score, level, reasons ?? [], new NewContactBudgetStatus(allowance, used, Reset, warmUpDay, overriddenUntil), restrictedUntil, overriddenUntil);

    private IRenderedComponent<ContainerFragment> RenderPanel(InstanceHealth health, string instanceId = "INST-01-0000042", EventCallback onRefresh = default) =>
        h.Render<InstanceHealthScore>(b =>
        {
            b.AddAttribute(11, nameof(InstanceHealthScore.CustomerId), customer.Id);
            b.AddAttribute(12, nameof(InstanceHealthScore.InstanceId), instanceId);
            b.AddAttribute(13, nameof(InstanceHealthScore.Health), health);
            b.AddAttribute(14, nameof(InstanceHealthScore.Zone), DarEsSalaam);
            b.AddAttribute(15, nameof(InstanceHealthScore.OnRefresh), onRefresh);
        });

    [Theory]
    [InlineData(HealthLevels.Good, 95, "Good", "success")]
    [InlineData(HealthLevels.Watch, 70, "Watch", "warning")]
    [InlineData(HealthLevels.Danger, 35, "Danger", "error")]
    [InlineData(HealthLevels.Restricted, 0, "Restricted", "error")]
    public void Each_level_shows_in_words_and_colour_with_its_score(string level, int score, string label, string colour)
    {
        var cut = RenderPanel(Health(level, score));

        var chip = cut.Find("[data-testid=health-level]");
        Assert.Equal(label, chip.TextContent.Trim());
        Assert.Equal(level, chip.GetAttribute("data-level"));
        Assert.Contains($"mud-chip-color-{colour}", chip.ClassName);
        Assert.Equal($"Score {score} of 100", cut.Find("[data-testid=health-score]").TextContent.Trim());
        Assert.NotEmpty(cut.Find("[data-testid=health-explanation]").TextContent.Trim());
    }

    [Fact]
    public void The_reasons_show_their_messages()
    {
        var cut = RenderPanel(Health(HealthLevels.Watch, 60, [
            new HealthReason("failed_sends", "12% of sends failed in the last 7 days: check the numbers you send to."),
            new HealthReason("low_replies", "Few new contacts reply: send to people who expect your messages."),
        ]));

        var reasons = cut.FindAll("[data-testid=health-reason]");
        Assert.Equal(["failed_sends", "low_replies"], reasons.Select(r => r.GetAttribute("data-code")));
        Assert.Equal("12% of sends failed in the last 7 days: check the numbers you send to.", reasons[0].TextContent.Trim());
    }

    [Fact]
    public void No_reasons_no_list() => Assert.Empty(RenderPanel(Health()).FindAll("[data-testid=health-reasons]"));

    [Theory]
    [InlineData(30, 18, "12 of 30 new contacts left today.")]
    [InlineData(10, 12, "0 of 10 new contacts left today.")]
    public void The_budget_says_how_many_new_contacts_are_left_of_the_allowance(int allowance, int used, string expected)
    {
        var cut = RenderPanel(Health(allowance: allowance, used: used));
        Assert.Equal(expected, cut.Find("[data-testid=health-budget]").TextContent.Trim());
    }

    [Fact]
    public void A_warming_up_number_shows_its_day_of_the_schedule()
    {
        var warming = RenderPanel(Health(allowance: 15, warmUpDay: 3));
        Assert.Equal($"Warming up: day 3 of {HealthOptions.DefaultWarmUp.Length}.", warming.Find("[data-testid=health-warm-up]").TextContent.Trim());
    }

    [Fact]
    public void A_warmed_up_number_says_so()
    {
        var warm = RenderPanel(Health(allowance: 250));
        Assert.Equal("Warmed up.", warm.Find("[data-testid=health-warm-up]").TextContent.Trim());
    }

    [Fact]
    public void The_reset_is_local_midnight_in_the_instance_zone_named_with_the_zone()
    {
        var cut = RenderPanel(Health());

        Assert.Equal("New contacts count again from 2026-12-06 00:00 Africa/Dar_es_Salaam (midnight there, 2026-12-05 21:00 UTC).",
            cut.Find("[data-testid=health-reset]").TextContent.Trim());
    }

    [Fact]
    public void An_active_restriction_shows_its_end()
    {
        var cut = RenderPanel(Health(HealthLevels.Restricted, 0, restrictedUntil: new DateTimeOffset(2026, 12, 6, 2, 0, 0, TimeSpan.Zero)));
        Assert.Equal("WhatsApp restricts or bans this number until 2026-12-06 02:00 UTC.", cut.Find("[data-testid=health-restricted]").TextContent.Trim());
    }

    [Fact]
    public void An_ended_restriction_is_not_shown()
    {
        var ended = RenderPanel(Health(restrictedUntil: time.GetUtcNow().AddMinutes(-1)));
        Assert.Empty(ended.FindAll("[data-testid=health-restricted]"));
    }

    [Fact]
    public void An_override_in_force_shows_until_when_and_lifts_the_limit_in_words()
    {
        var until = time.GetUtcNow().AddHours(24);
        var cut = RenderPanel(Health(allowance: 10, used: 14, overriddenUntil: until));

        Assert.Equal("Protection overridden until 2026-12-06 20:59 UTC: the new-contact budget and the pause at danger do not protect this number.",
            cut.Find("[data-testid=health-overridden]").TextContent.Trim());
        Assert.Equal("No new-contact limit while protection is overridden (14 new contacts messaged today).", cut.Find("[data-testid=health-budget]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=override-protection]"));
    }

    [Fact]
    public async Task Override_asks_first_saying_what_it_risks_then_lifts_protection_for_24_hours_and_logs_who()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        var refreshed = 0;
        var cut = RenderPanel(Health(), instance.InstanceId, EventCallback.Factory.Create(this, () => refreshed++));

        cut.ClickOn("[data-testid=override-protection]");
        var risk = cut.WaitForElement("[data-testid=override-risk]").TextContent;
        Assert.Contains("For the next 24 hours, the new-contact budget and the pause at danger stop protecting this number", risk);
        Assert.Contains("WhatsApp may restrict or ban the number", risk);
        Assert.Null(await OverrideUntilAsync(instance.InstanceId));

        cut.ClickOn("[data-testid=confirm-override]");
        cut.WaitForAssertion(() => Assert.Equal(1, refreshed));
        Assert.Equal(time.GetUtcNow().AddHours(24), await OverrideUntilAsync(instance.InstanceId));
        Assert.Contains(await HistoryAsync(instance.InstanceId), r => r is not null && r.StartsWith("protection overridden for 24 h (until 2026-12-06 20:59 UTC) by owner@example.com (dashboard)", StringComparison.Ordinal));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=override-risk]")));
    }

    [Fact]
    public async Task Cancel_overrides_nothing()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        var cut = RenderPanel(Health(), instance.InstanceId);

        cut.ClickOn("[data-testid=override-protection]");
        cut.WaitForElement("[data-testid=cancel-override]").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=override-risk]")));
        Assert.Null(await OverrideUntilAsync(instance.InstanceId));
    }

    [Fact]
    public async Task The_instance_page_shows_the_health_and_follows_sends_override_and_local_midnight_live()
    {
        var instance = await h.Instances.CreateAsync(customer.Id, "Shop", "simulator", "TZ");
        var id = await InstanceIdAsync(instance.InstanceId);
        var cut = h.Render<InstanceDetail>(b =>
        {
            b.AddAttribute(11, nameof(InstanceDetail.CustomerId), customer.Id);
            b.AddAttribute(12, nameof(InstanceDetail.InstanceId), instance.InstanceId);
        });
        cut.WaitForAssertion(() => Assert.Equal("10 of 10 new contacts left today.", cut.Find("[data-testid=health-budget]").TextContent.Trim()));
        Assert.Equal($"Warming up: day 1 of {HealthOptions.DefaultWarmUp.Length}.", cut.Find("[data-testid=health-warm-up]").TextContent.Trim());
        Assert.Contains("Africa/Dar_es_Salaam", cut.Find("[data-testid=health-reset]").TextContent);

        // A send to a new contact takes a slot: the messages notice brings the panel up to date.
        Assert.True((await h.Ctx.Services.GetRequiredService<NewContactBudget>().ClaimAsync(id, "255700000777")).Allowed);
        h.Ctx.Services.GetRequiredService<LiveNotices>().MessagesChanged(customer.Id, instance.InstanceId);
        cut.WaitForAssertion(() => Assert.Equal("9 of 10 new contacts left today.", cut.Find("[data-testid=health-budget]").TextContent.Trim()),
            TimeSpan.FromSeconds(10));

        // Local midnight: a new day's budget, without any notice.
        time.Advance(Reset - time.GetUtcNow() + TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Equal("10 of 10 new contacts left today.", cut.Find("[data-testid=health-budget]").TextContent.Trim()),
            TimeSpan.FromSeconds(10));
        Assert.Equal($"Warming up: day 2 of {HealthOptions.DefaultWarmUp.Length}.", cut.Find("[data-testid=health-warm-up]").TextContent.Trim());

        // The page re-renders as the node's notices come in: a click retries on the element of the latest render.
        cut.WaitForAssertion(() => cut.Find("[data-testid=override-protection]").Click());
        cut.WaitForAssertion(() => cut.Find("[data-testid=confirm-override]").Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Protection overridden until", cut.Find("[data-testid=health-overridden]").TextContent.Trim()));
    }

    private async Task<int> InstanceIdAsync(string code)
    {
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync();
    }

    private async Task<DateTimeOffset?> OverrideUntilAsync(string code)
    {
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Instances.Where(i => i.Code == code).Select(i => i.ProtectionOverrideUntil).SingleAsync();
    }

    private async Task<List<string?>> HistoryAsync(string code)
    {
        var id = await InstanceIdAsync(code);
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.InstanceStateChanges.Where(c => c.InstanceId == id).Select(c => c.Reason).ToListAsync();
    }
}
