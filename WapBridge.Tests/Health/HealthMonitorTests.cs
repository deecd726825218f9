using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Health;

/// <summary>Records every level change it is told of; a second observer that always fails must not stop it.</summary>
public sealed class RecordingHealthObserver : IHealthLevelObserver
{
    public ConcurrentQueue<HealthLevelChange> Changes { get; } = new();

    public Task LevelChangedAsync(HealthLevelChange change, CancellationToken ct)
    {
        Changes.Enqueue(change);
        return Task.CompletedTask;
    }
}

public sealed class FailingHealthObserver : IHealthLevelObserver
{
    public Task LevelChangedAsync(HealthLevelChange change, CancellationToken ct) => throw new InvalidOperationException("observer broke");
}

/// <summary>
/// A gateway whose health observers are the two above (the real ones of other features stay registered too); its own
/// sweep runs at start and then hourly, so the tests' judgements are the only ones.
/// </summary>
public sealed class HealthObservedApp() : WapBridgeApp("sqlite", new Dictionary<string, string?> { ["WapBridge:Health:EvaluateInterval"] = "01:00:00" })
{
    public RecordingHealthObserver Recorder { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IHealthLevelObserver, FailingHealthObserver>();
            services.AddSingleton<IHealthLevelObserver>(Recorder);
        });
    }
}

/// <summary>
/// <see cref="HealthMonitor"/>: a change of level is stored once and told to the observers exactly once, however many
/// nodes judge it at the same moment; a poke judges at once, without waiting for the interval.
/// </summary>
public sealed class HealthMonitorTests(HealthObservedApp app) : IClassFixture<HealthObservedApp>
{
    private const string P = "wap_bridge.api.instances.";

    private async Task<Instance> NewInstanceAsync()
    {
        var customer = await app.CreateCustomerAsync();
        var client = app.CreateApiClient(customer.TokenHeader);
        var code = (await client.CallAsync(P + "create_instance", new { engine = "simulator", default_country = "TZ" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        return await db.Instances.AsNoTracking().SingleAsync(i => i.Code == code);
    }

    private async Task SetAsync(int instanceId, Func<Instance, Instance> change)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var row = await db.Instances.SingleAsync(i => i.Id == instanceId);
        change(row);
        await db.SaveChangesAsync();
    }

    private List<HealthLevelChange> ChangesOf(int instanceId) => app.Recorder.Changes.Where(c => c.InstanceId == instanceId).ToList();

    /// <summary>The node's own sweep may judge the instance at the same moment and tell the observers from its call: waits for them.</summary>
    private async Task<List<HealthLevelChange>> WaitForChangesAsync(int instanceId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ChangesOf(instanceId).Count < count && DateTime.UtcNow < deadline)
            await Task.Delay(50, TestContext.Current.CancellationToken);
        return ChangesOf(instanceId);
    }

    [Fact]
    public async Task A_level_change_judged_by_several_nodes_at_once_is_stored_and_told_exactly_once()
    {
        var instance = await NewInstanceAsync();
        var monitor = app.Services.GetRequiredService<HealthMonitor>();
        // Another node's monitor on the same database.
        var otherNode = ActivatorUtilities.CreateInstance<HealthMonitor>(app.Services);
        await monitor.EvaluateAsync(instance.Id, TestContext.Current.CancellationToken);
        var first = Assert.Single(await WaitForChangesAsync(instance.Id, 1));
        Assert.Equal((null, "good", instance.Code, instance.CustomerId), (first.PreviousLevel, first.Health.Level, first.InstanceCode, first.CustomerId));

        var until = DateTimeOffset.UtcNow.AddHours(3);
        await SetAsync(instance.Id, i => { i.RestrictedUntil = until; return i; });
        var judges = Enumerable.Range(0, 8).Select(n => (n % 2 == 0 ? monitor : otherNode).EvaluateAsync(instance.Id, TestContext.Current.CancellationToken));
        var reported = (await Task.WhenAll(judges)).Where(c => c is not null).ToList();

        Assert.Single(reported);
        var changes = await WaitForChangesAsync(instance.Id, 2);
        Assert.Equal(2, changes.Count);
        var change = changes[1];
        Assert.Equal(("good", "restricted", 50), (change.PreviousLevel, change.Health.Level, change.Health.Score));
        Assert.Equal(until.ToUnixTimeSeconds(), change.Health.RestrictedUntil!.Value.ToUnixTimeSeconds());
        Assert.Equal("restricted", Assert.Single(change.Health.Reasons).Code);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var stored = await db.Instances.AsNoTracking().SingleAsync(i => i.Id == instance.Id);
        Assert.Equal(("restricted", 50), (stored.HealthLevel, stored.HealthScore));
        Assert.NotNull(stored.HealthChangedAt);

        // Judged again unchanged: nobody is told anything.
        await monitor.EvaluateAsync(instance.Id, TestContext.Current.CancellationToken);
        await otherNode.EvaluateAsync(instance.Id, TestContext.Current.CancellationToken);
        Assert.Equal(2, ChangesOf(instance.Id).Count);
    }

    [Fact]
    public async Task A_poke_judges_the_instance_at_once()
    {
        var instance = await NewInstanceAsync();
        var monitor = app.Services.GetRequiredService<HealthMonitor>();
        await monitor.EvaluateAsync(instance.Id, TestContext.Current.CancellationToken);
        await WaitForChangesAsync(instance.Id, 1);

        await SetAsync(instance.Id, i => { i.BannedUntil = DateTimeOffset.UtcNow.AddHours(24); return i; });
        monitor.Poke(instance.Id);

        // The interval is an hour: only the poke can judge it this soon.
        var change = (await WaitForChangesAsync(instance.Id, 2))[^1];
        Assert.Equal(("good", "restricted", "banned"), (change.PreviousLevel, change.Health.Level, change.Health.Reasons.Single().Code));
    }
}
