using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>A Cloud API instance of a test customer, made in the database as instance creation stores one (credentials sealed).</summary>
public sealed record CloudApiInboundInstance(TestCustomer Customer, HttpClient Client, string Code, int Id, FakeGraphNumber Number);

public static class CloudApiInboundInstances
{
    /// <summary>
    /// A Cloud API instance for a fresh number the fake Graph knows, its session not opened (<see cref="OpenAsync"/> opens it).
    /// </summary>
    public static async Task<CloudApiInboundInstance> CreateAsync(CloudApiApp app, TestCustomer? customer = null)
    {
        customer ??= await app.CreateCustomerAsync();
        var number = NewNumber();
        app.Graph.AddNumber(number);
        var protector = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(InstanceCredentialStore.Purpose);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var customerId = await db.Customers.Where(c => c.Code == customer.Code).Select(c => c.Id).SingleAsync();
        var now = DateTimeOffset.UtcNow;
        var instance = new Instance
        {
            Code = Instance.FormatCode("01", Random.Shared.NextInt64(5_000_000, 9_999_999)),
            CustomerId = customerId,
            Name = "Cloud " + Guid.NewGuid().ToString("N")[..6],
            Engine = CloudApiEngine.EngineName,
            NodeId = "01",
            DefaultCountry = "TZ",
            EngineCredentials = protector.Protect(number.Credentials.ToJson()),
            CreatedAt = now,
            StateChangedAt = now,
        };
        db.Instances.Add(instance);
        await db.SaveChangesAsync();
        return new CloudApiInboundInstance(customer, app.CreateApiClient(customer.TokenHeader), instance.Code, instance.Id, number);
    }

    /// <summary>Opens the instance's session (its engine asks Graph for the number) and waits until it is connected.</summary>
    public static async Task OpenAsync(CloudApiApp app, CloudApiInboundInstance instance, int seconds = 20)
    {
        await app.Services.GetRequiredService<IGrainFactory>().GetGrain<IInstanceGrain>(instance.Code).OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
            var state = await db.Instances.Where(i => i.Id == instance.Id).Select(i => new { i.State, i.LastError }).SingleAsync();
            if (state.State == InstanceState.Connected)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"instance {instance.Code} never connected: {state.State} {state.LastError}");
            await Task.Delay(50);
        }
    }

    /// <summary>A number with its own ids, token, app secret and verify token, so tests stay apart.</summary>
    public static FakeGraphNumber NewNumber()
    {
        var id = Random.Shared.NextInt64(100_000_000_000_000, 999_999_999_999_999);
        var local = Random.Shared.Next(1_000_000, 9_999_999);
        return new FakeGraphNumber($"{id}", $"+255 75{local}", "Duka " + local, $"EAAG-token-{Guid.NewGuid():N}", $"{id + 7}",
            AppSecret: Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), VerifyToken: $"verify-{Guid.NewGuid():N}");
    }
}
