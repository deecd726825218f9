using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.Simulator;

namespace WapBridge.Tests.Engines.Simulator;

/// <summary>A simulated network on a fake clock with no cluster, and connected simulator sessions that record their events.</summary>
public sealed class SimulatorHarness
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
    public SimulatorOptions Options { get; } = new() { SendLatency = TimeSpan.Zero, InviteOnlyPattern = "^\\d*7777$" };
    public SimulatorNetwork Network { get; }
    private readonly SimulatorEngine _engine;

    public SimulatorHarness()
    {
        Network = new SimulatorNetwork(Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<SimulatorNetwork>.Instance);
        _engine = new SimulatorEngine(Network);
    }

    public sealed class RecordingSink : IEngineEventSink
    {
        public ConcurrentQueue<EngineEvent> Events { get; } = new();

        public ValueTask OnEventAsync(EngineEvent engineEvent, CancellationToken ct = default)
        {
            Events.Enqueue(engineEvent);
            return ValueTask.CompletedTask;
        }

        public List<T> Of<T>() => Events.OfType<T>().ToList();
    }

    public sealed class MemoryCredentials : IEngineCredentialStore
    {
        public string? Value { get; set; }
        public Task<string?> LoadAsync(CancellationToken ct = default) => Task.FromResult(Value);
        public Task SaveAsync(string? credentials, CancellationToken ct = default) { Value = credentials; return Task.CompletedTask; }
    }

    /// <summary>A connected simulator instance: its session (with its groups), its events, its number.</summary>
    public sealed record Phone(IEngineSession Session, RecordingSink Sink, string Number, string InstanceId)
    {
        public IEngineGroups Groups => (IEngineGroups)Session;
    }

    /// <summary>A session not yet connected; pass the credentials of an earlier one to reconnect as it.</summary>
    public (IEngineSession Session, RecordingSink Sink, MemoryCredentials Credentials) Open(string instanceId, MemoryCredentials? credentials = null, int customerId = 1)
    {
        var sink = new RecordingSink();
        credentials ??= new MemoryCredentials();
        return (_engine.CreateSession(new EngineSessionContext(instanceId, sink, credentials, CustomerId: customerId)), sink, credentials);
    }

    public async Task<Phone> ConnectAsync(string instanceId, string number, int customerId = 1, string? pushName = null)
    {
        var (session, sink, _) = Open(instanceId, customerId: customerId);
        await session.ConnectAsync(TestContext.Current.CancellationToken);
        await Network.ScanAsync(instanceId, number, pushName ?? "Shop " + number, TestContext.Current.CancellationToken);
        return new Phone(session, sink, number, instanceId);
    }
}
