using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Engines.Baileys;

/// <summary>The test host with an observer that records every engine event the instance actors hand out.</summary>
public sealed class EventRecordingApp(IDictionary<string, string?> settings) : WapBridgeApp(settings: settings)
{
    public ConcurrentQueue<EngineEvent> Events { get; } = new();

    /// <summary>The first recorded event that matches, waiting up to 30 s for it.</summary>
    public async Task<T> EventAsync<T>(Func<T, bool> match, string what) where T : EngineEvent
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (Events.OfType<T>().FirstOrDefault(match) is { } found)
                return found;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException("no " + what + " within 30 s");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInstanceEventObserver>(new Recorder(Events)));
    }

    private sealed class Recorder(ConcurrentQueue<EngineEvent> events) : IInstanceEventObserver
    {
        public Task OnEngineEventAsync(Instance instance, EngineEvent engineEvent, CancellationToken ct)
        {
            events.Enqueue(engineEvent);
            return Task.CompletedTask;
        }
    }
}
