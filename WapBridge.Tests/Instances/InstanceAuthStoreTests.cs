using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Instances;

/// <summary>The engine auth-state store on a real SQLite file: its cache stays bounded and keeps answering right.</summary>
public sealed class InstanceAuthStoreTests
{
    [Fact]
    public async Task The_cache_stays_bounded_however_many_keys_a_session_reads_and_values_still_come_from_the_store()
    {
        await using var app = new WapBridgeApp();
        await app.InitializeAsync();
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        var protector = new EphemeralDataProtectionProvider().CreateProtector("test");
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);
        var code = (await client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        await using var db = await dbFactory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var instanceId = await db.Instances.Where(i => i.Code == code).Select(i => i.Id).SingleAsync(TestContext.Current.CancellationToken);
        var store = new InstanceAuthStore(dbFactory, protector, instanceId, TimeProvider.System);
        await store.SetAsync([new EngineAuthChange("session", "kept", "value-1")], TestContext.Current.CancellationToken);

        // A busy account reads sessions of thousands of contacts; most of them are not stored (cached as missing).
        for (var round = 0; round < 3; round++)
        {
            var ids = Enumerable.Range(round * 9000, 9000).Select(i => "contact-" + i).ToList();
            await store.GetAsync("session", ids, TestContext.Current.CancellationToken);
            Assert.InRange(store.CachedCount, 1, InstanceAuthStore.MaxCachedEntries);
        }

        var read = await store.GetAsync("session", ["kept"], TestContext.Current.CancellationToken);
        Assert.Equal("value-1", read["kept"]);
    }
}
