using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Core.Overview;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;
using WapBridge.Web.Components.Pages;
using WapBridge.Web.Components.Pages.Overview;
using WapBridge.Web.Hosting;

namespace WapBridge.Tests.Dashboard;

/// <summary>
/// The Overview page and its Admin panels on a node of one: live re-reads on notices, the periodic refresh of figures
/// that have none, and the Admin panels shown to Admins only. Bridge and job figures are known ones.
/// </summary>
public sealed class OverviewPageTests : IAsyncLifetime
{
    private readonly FakeBridges bridges = new();
    private readonly FakeJobQueue jobs = new();
    private readonly InstanceDashboardHarness h;
    private Customer customer = default!;

    public OverviewPageTests()
    {
        h = new InstanceDashboardHarness(TimeProvider.System, configure: services =>
        {
            services.AddOverview();
            services.AddSingleton<IBridgeProcesses>(bridges);
            services.AddSingleton<IJobQueueMonitor>(jobs);
        });
    }

    public async ValueTask InitializeAsync() => customer = await h.StartAsCustomerAsync("Overview Ltd");

    public ValueTask DisposeAsync() => h.DisposeAsync();

    [Fact]
    public async Task Admin_panels_show_nodes_bridge_processes_and_jobs_and_refresh_on_their_own()
    {
        var started = new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
        bridges.Set([new BridgeProcessSnapshot(1, 4242, started, 3, 50 * 1024 * 1024, 20 * 1024 * 1024, TimeSpan.FromMilliseconds(12.5), started.AddMinutes(1))], restarts: 2);
        jobs.Figures = new JobQueueFigures(5, 1, 7, 2, [new JobQueueLength("campaigns", 4), new JobQueueLength("default", 1)]);

        var cut = h.Render<AdminPanels>(b => b.AddAttribute(1, nameof(AdminPanels.RefreshInterval), TimeSpan.FromMilliseconds(200)));

        cut.WaitForAssertion(() =>
        {
            var node = cut.Find("[data-testid=overview-node]");
            Assert.Equal("01", node.GetAttribute("data-node"));
            Assert.Equal("active", node.GetAttribute("data-status"));
        });
        var bridge = cut.Find("[data-testid=overview-bridge][data-number='1']");
        Assert.Equal("3", bridge.QuerySelector("[data-testid=bridge-sessions]")!.TextContent);
        Assert.Equal("50 MB", bridge.QuerySelector("[data-testid=bridge-rss]")!.TextContent);
        Assert.Equal("12.5 ms", bridge.QuerySelector("[data-testid=bridge-lag]")!.TextContent);
        Assert.Contains("2 since this node started", cut.Find("[data-testid=bridge-restarts]").TextContent);
        Assert.Equal("5", cut.Find("[data-testid=jobs-enqueued]").TextContent);
        Assert.Equal("1", cut.Find("[data-testid=jobs-processing]").TextContent);
        Assert.Equal("7", cut.Find("[data-testid=jobs-scheduled]").TextContent);
        Assert.Equal("2", cut.Find("[data-testid=jobs-failed]").TextContent);
        Assert.Equal(["campaigns", "default"], cut.FindAll("[data-testid=job-queue]").Select(q => q.GetAttribute("data-queue")));

        // No notice tells of these: the periodic refresh shows the new figures.
        bridges.Set([], restarts: 3);
        jobs.Figures = new JobQueueFigures(0, 0, 0, 9, []);
        cut.WaitForAssertion(() =>
        {
            Assert.Equal("9", cut.Find("[data-testid=jobs-failed]").TextContent);
            Assert.NotNull(cut.Find("[data-testid=no-bridges]"));
            Assert.Contains("3 since this node started", cut.Find("[data-testid=bridge-restarts]").TextContent);
        }, TimeSpan.FromSeconds(5));

        // A job store that cannot be read says so; the rest still shows.
        jobs.Failure = new InvalidOperationException("storage is down");
        cut.WaitForAssertion(() => Assert.Contains("storage is down", cut.Find("[data-testid=jobs-error]").TextContent), TimeSpan.FromSeconds(5));
        Assert.NotEmpty(cut.FindAll("[data-testid=overview-node]"));
    }

    [Fact]
    public void An_owner_sees_the_figures_but_not_the_admin_panels()
    {
        var cut = h.Render<Home>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=overview-figures]")));
        Assert.Equal(customer.Code, cut.Find("[data-testid=customer-code]").TextContent);
        Assert.Equal("0", cut.Find("[data-testid=active-key-count]").TextContent);
        Assert.NotNull(cut.Find("[data-testid=curl-example]"));
        Assert.Empty(cut.FindAll("[data-testid=admin-panels]"));
    }

    [Fact]
    public void An_admin_sees_the_admin_panels_too()
    {
        // Roles first: bunit's SetRoles drops the claims set before it.
        h.Auth.SetRoles(Roles.Admin);
        h.LogInAs(customer);

        var cut = h.Render<Home>();

        cut.WaitForAssertion(() =>
        {
            Assert.NotNull(cut.Find("[data-testid=overview-figures]"));
            Assert.NotNull(cut.Find("[data-testid=admin-panels] [data-testid=overview-node]"));
        });
    }

    [Fact]
    public async Task A_message_notice_reads_the_figures_again_without_a_reload()
    {
        var ct = Xunit.TestContext.Current.CancellationToken;
        var instance = await h.ConnectedAsync(customer.Id, "255700000601");
        var cut = h.Render<Home>();
        cut.WaitForAssertion(() => Assert.Equal("0", cut.Find("figure[data-testid=inbound-per-hour]").GetAttribute("data-total")));
        Assert.Equal("0", cut.Find("[data-testid=instance-tile] [data-testid=tile-queue]").TextContent);

        // Written behind the page's back, then announced as the recorder would.
        await using (var db = await h.Ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(ct))
        {
            db.Messages.Add(new Message
            {
                CustomerId = customer.Id, InstanceId = instance.Id, Direction = Message.Inbound, WaMessageId = "3EB0OVERVIEW1", SerializedId = "false_255755000601@c.us_3EB0OVERVIEW1",
                Type = "text", Body = "hi", Status = MessageStatus.Received, Source = MessageSources.Inbound, CreatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync(ct);
        }
        h.Ctx.Services.GetRequiredService<LiveChanges>().Publish(new LiveChange(LiveTopics.Messages, customer.Id, instance.Code));

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("1", cut.Find("figure[data-testid=inbound-per-hour]").GetAttribute("data-total"));
            Assert.Equal("1", cut.Find("[data-testid=total-inbound] [data-testid=total-value]").TextContent);
            Assert.NotEqual("none yet", cut.Find("[data-testid=instance-tile] [data-testid=tile-last-activity]").TextContent);
        }, TimeSpan.FromSeconds(5));
    }

    private sealed class FakeBridges : IBridgeProcesses
    {
        private volatile IReadOnlyList<BridgeProcessSnapshot> current = [];
        private long restarts;

        public void Set(IReadOnlyList<BridgeProcessSnapshot> processes, long restarts)
        {
            current = processes;
            Interlocked.Exchange(ref this.restarts, restarts);
        }

        public IReadOnlyList<BridgeProcessSnapshot> Current() => current;

        public long Restarts => Interlocked.Read(ref restarts);
    }

    private sealed class FakeJobQueue : IJobQueueMonitor
    {
        public volatile JobQueueFigures Figures = new(0, 0, 0, 0, []);
        public volatile Exception? Failure;

        public JobQueueFigures Read() => Failure is { } e ? throw e : Figures;
    }
}
