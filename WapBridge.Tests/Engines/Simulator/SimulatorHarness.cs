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

    private sealed class MemoryCredentials : IEngineCredentialStore
    {
        private string? _value;
        public Task<string?> LoadAsync(CancellationToken ct = default) => Task.FromResult(_value);
        public Task SaveAsync(string? credentials, CancellationToken ct = default) { _value = credentials; return Task.CompletedTask; }
    }

    /// <summary>A connected simulator instance: its session (with its groups), its events, its number.</summary>
    public sealed record Phone(IEngineSession Session, RecordingSink Sink, string Number, string InstanceId)
    {
        public IEngineGroups Groups => (IEngineGroups)Session;
    }

    public async Task<Phone> ConnectAsync(string instanceId, string number, int customerId = 1, string? pushName = null)
    {
        var sink = new RecordingSink();
        var session = _engine.CreateSession(new EngineSessionContext(instanceId, sink, new MemoryCredentials(), CustomerId: customerId));
        await session.ConnectAsync(TestContext.Current.CancellationToken);
        await Network.ScanAsync(instanceId, number, pushName ?? "Shop " + number, TestContext.Current.CancellationToken);
        return new Phone(session, sink, number, instanceId);
    }
}
