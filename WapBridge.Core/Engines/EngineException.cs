namespace WapBridge.Core.Engines;

/// <summary>
/// A WhatsApp engine's own failure, in engine terms: <see cref="Code"/> is stable and machine-readable. Engines do not
/// know the API's error model; the service edge that calls them (the instance actor, the outbox) decides what a
/// failure means to a caller.
/// </summary>
public class EngineException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The session is not in the state the call needs (not waiting to be paired, already connected).</summary>
public sealed class EngineSessionStateException(string code, string message) : EngineException(code, message);

/// <summary>WhatsApp, or the engine on its behalf, refused the call (no pairing code issued, …).</summary>
public sealed class EngineRefusedException(string code, string message) : EngineException(code, message);

/// <summary>What the call names does not exist for this account (a group it is not in, an unknown invite code).</summary>
public sealed class EngineNotFoundException(string code, string message) : EngineException(code, message);

/// <summary>The engine cannot do <see cref="Feature"/> (an engine opts in to each optional feature).</summary>
public sealed class EngineFeatureUnavailableException(string feature)
    : EngineException("engine_feature_unavailable", $"The instance's engine cannot do {feature}.")
{
    public string Feature { get; } = feature;
}
