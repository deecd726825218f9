using Bunit;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;
using WapBridge.Core.Webhooks;
using WapBridge.Web.Components.Pages;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// The Messages page on the real node: it follows the live feed (a message accepted through the intake appears, its
/// receipts walk its status) and reads nothing on a timer, nor hears another customer's messages.
/// </summary>
public sealed class MessagesPageLiveTests : IAsyncLifetime
{
    private readonly InstanceDashboardHarness h = new(TimeProvider.System, configure: services =>
    {
        services.AddSingleton<MessageLog>();
        services.AddSingleton<MessageReceipts>();
        services.AddSingleton<MessageIntake>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageIntake>());
        // The message drawer links media.
        services.AddSingleton<IPublicUrls>(new LoopbackUrls());
        services.AddSingleton<MediaLinks>();
    });
    private Customer customer = default!;
    private Customer stranger = default!;

    public async ValueTask InitializeAsync()
    {
        await h.MigrateAsync();
        customer = await h.CreateCustomerAsync("Live messages");
        stranger = await h.CreateCustomerAsync("Someone else");
        h.LogInAs(customer);
    }

    public ValueTask DisposeAsync() => h.DisposeAsync();

    private IRenderedComponent<ContainerFragment> RenderPage() =>
        h.Ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<Messages>(10);
            b.CloseComponent();
        }));

    private async Task<Instance> InstanceAsync(int customerId, string name)
    {
        var created = await h.Instances.CreateAsync(customerId, name, "simulator", "TZ");
        await using var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Xunit.TestContext.Current.CancellationToken);
        return await db.Instances.AsNoTracking().SingleAsync(i => i.Code == created.InstanceId, Xunit.TestContext.Current.CancellationToken);
    }

    private sealed class LoopbackUrls : IPublicUrls
    {
        public string BaseUrl => "http://127.0.0.1";
    }

    private static Message Text(Instance instance, string body) =>
        OutboundMessages.New(instance, "255755000001", body, null, null, MessageSources.Api, null, DateTimeOffset.UtcNow, TimeSpan.FromHours(1));

    [Fact]
    public async Task A_message_accepted_appears_and_its_status_walks_without_reload_and_without_polling()
    {
        var instance = await InstanceAsync(customer.Id, "Front desk");
        var theirs = await InstanceAsync(stranger.Id, "Theirs");
        var intake = h.Ctx.Services.GetRequiredService<MessageIntake>();
        var cut = RenderPage();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-messages]"));

        var message = Text(instance, "Hello live");
        await intake.SaveAsync(message);
        cut.WaitForAssertion(() => Assert.Contains("Hello live", cut.Find("[data-testid=messages-table]").TextContent), TimeSpan.FromSeconds(5));
        Assert.Contains("queued", cut.Find("[data-testid=messages-table]").TextContent);

        // Another customer's message: stored and announced, never shown here.
        await intake.SaveAsync(Text(theirs, "Not yours"));

        // A change nobody announces is not picked up: the page reads on notices only, never on a timer.
        var factory = h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var db = await factory.CreateDbContextAsync(Xunit.TestContext.Current.CancellationToken))
            await db.Messages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.Body, "Edited quietly"), Xunit.TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(4), Xunit.TestContext.Current.CancellationToken);
        Assert.Contains("Hello live", cut.Find("[data-testid=messages-table]").TextContent);
        Assert.DoesNotContain("Not yours", cut.Markup);

        // Receipts as the engine reports them: the status walks on screen.
        var receipts = h.Ctx.Services.GetRequiredService<MessageReceipts>();
        await receipts.ApplyAsync([(instance.Id, new MessageStatusEvent(instance.Code, DateTimeOffset.UtcNow, message.WaMessageId, MessageAck.Device))]);
        cut.WaitForAssertion(() =>
        {
            var table = cut.Find("[data-testid=messages-table]").TextContent;
            Assert.Contains("delivered", table);
            Assert.Contains("Edited quietly", table);
        }, TimeSpan.FromSeconds(5));
        await receipts.ApplyAsync([(instance.Id, new MessageStatusEvent(instance.Code, DateTimeOffset.UtcNow, message.WaMessageId, MessageAck.Read))]);
        cut.WaitForAssertion(() => Assert.Contains("read", cut.Find("[data-testid=messages-table]").TextContent), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain("Not yours", cut.Markup);
    }
}
