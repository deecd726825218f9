using WapBridge.Core.Common;

namespace WapBridge.Core.Engines;

/// <summary>The engines this process has, by name.</summary>
public sealed class EngineRegistry(IEnumerable<IWhatsAppEngine> engines)
{
    private readonly Dictionary<string, IWhatsAppEngine> _byName = engines.ToDictionary(e => e.Name, StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<IWhatsAppEngine> All => _byName.Values;

    /// <summary>
    /// The default for new instances: the first available engine in preference order. Never the Cloud API, though it is
    /// always available: an instance of it needs Meta's ids and token, which a request naming no engine does not carry.
    /// </summary>
    public string? DefaultEngine => new[] { "baileys", "simulator" }
        .FirstOrDefault(n => _byName.TryGetValue(n, out var e) && e.UnavailableReason is null);

    /// <summary>How the dashboard names an engine.</summary>
    public static string DisplayName(string engine) => engine.ToLowerInvariant() switch
    {
        "baileys" => "WhatsApp (QR)",
        "cloudapi" => "WhatsApp Cloud API",
        "simulator" => "Simulator",
        _ => engine,
    };

    public IWhatsAppEngine Get(string name) =>
        _byName.TryGetValue(name, out var engine)
            ? engine
            : throw WapBridgeException.Invalid("engine", "unknown_engine",
                $"engine '{name}' is not available here; use one of: {string.Join(", ", _byName.Keys)}");

    /// <summary>Whether the engine named <paramref name="engine"/> is here and can do <paramref name="feature"/>.</summary>
    public bool Supports(string engine, string feature) => _byName.TryGetValue(engine, out var e) && e.Supports(feature);

    public IWhatsAppEngine GetAvailable(string name)
    {
        var engine = Get(name);
        return engine.UnavailableReason is { } reason
            ? throw WapBridgeException.Invalid("engine", "engine_unavailable", reason)
            : engine;
    }
}
