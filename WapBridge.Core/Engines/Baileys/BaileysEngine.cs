using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>Real WhatsApp multi-device (QR code or pairing code) through the Node.js <c>baileys-bridge</c>.</summary>
internal sealed class BaileysEngine(BaileysRuntime runtime, BaileysSupervisor supervisor, IOptions<BaileysOptions> options, TimeProvider time,
    ILoggerFactory loggers) : IWhatsAppEngine
{
    public const string EngineName = "baileys";

    private readonly ILogger _logger = loggers.CreateLogger<BaileysSession>();

    public string Name => EngineName;
    public string? UnavailableReason => runtime.UnavailableReason;
    public bool SupportsPairingCode => true;

    /// <summary>
    /// Every conversation feature (PROTOCOL.md "Conversations"), profiles and groups ("Contacts and groups (issue 19)"): the
    /// bridge's protocol 2 carries them all.
    /// </summary>
    public bool Supports(string feature) => feature is EngineFeatures.Replies or EngineFeatures.Mentions or EngineFeatures.Reactions
        or EngineFeatures.Locations or EngineFeatures.Contacts or EngineFeatures.Polls or EngineFeatures.Edits or EngineFeatures.DeleteForEveryone
        or EngineFeatures.DeleteForMe or EngineFeatures.ReadReceipts or EngineFeatures.Presence or EngineFeatures.Profiles or EngineFeatures.Groups;

    internal BaileysSupervisor Supervisor => supervisor;

    public IEngineSession CreateSession(EngineSessionContext context) => new BaileysSession(supervisor, options.Value, context, time, _logger);

    /// <summary>
    /// Sends any request to the process that serves <paramref name="instanceId"/> (tests drive a fake bridge with
    /// <c>script</c> requests this way; the real bridge answers <c>unknown_method</c>).
    /// </summary>
    internal async Task<JsonElement> RequestAsync(string instanceId, string method, JsonObject parameters, CancellationToken ct = default)
    {
        var process = supervisor.Processes.FirstOrDefault(p => p.IsAlive && p.SessionIds.Contains(instanceId))
            ?? throw new BridgeException("unknown_session", $"no bridge process serves {instanceId}");
        parameters["session"] = instanceId;
        return await process.RequestAsync(method, parameters, ct);
    }
}

public static class BaileysServiceCollectionExtensions
{
    /// <summary>Registers the Baileys engine; its options come from <see cref="BaileysOptions.Section"/>.</summary>
    public static IServiceCollection AddBaileysEngine(this IServiceCollection services)
    {
        services.AddSingleton<BaileysRuntime>();
        services.AddSingleton<BaileysSupervisor>();
        services.AddSingleton<Telemetry.IBridgeProcesses>(sp => sp.GetRequiredService<BaileysSupervisor>());
        services.AddHostedService<Telemetry.BridgeMetrics>();
        services.AddSingleton<BaileysEngine>();
        services.AddSingleton<IWhatsAppEngine>(sp => sp.GetRequiredService<BaileysEngine>());
        services.AddSingleton<SentMessageRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<SentMessageRetention>());
        return services;
    }
}
