namespace WapBridge.Core.Common;

/// <summary>What went wrong, in terms every API surface can map to its own status codes.</summary>
public enum ErrorKind
{
    Validation,
    NotFound,
    Conflict,
    InstanceNotConnected,
    Permission,
    Authentication,
    TooManyRequests,

    /// <summary>The instance's engine cannot do what was asked (contract §9: 409 <c>EngineFeatureUnavailable</c>).</summary>
    EngineFeatureUnavailable,
}

/// <summary>
/// A failure the caller can fix. <see cref="Code"/> is stable and machine-readable,
/// <see cref="Field"/> names the argument at fault so the error can say what to change.
/// It crosses nodes intact (an instance's actor may live on another node than the API call it answers).
/// </summary>
[GenerateSerializer, Alias("wapbridge.error")]
public class WapBridgeException(ErrorKind kind, string code, string message, string? field = null)
    : Exception(message)
{
    [Id(0)]
    public ErrorKind Kind { get; private init; } = kind;

    [Id(1)]
    public string Code { get; private init; } = code;

    [Id(2)]
    public string? Field { get; private init; } = field;

    public static WapBridgeException Invalid(string field, string code, string message) =>
        new(ErrorKind.Validation, code, message, field);

    public static WapBridgeException Missing(string field) =>
        new(ErrorKind.Validation, "missing_argument", $"{field} is required", field);

    public static WapBridgeException NotFound(string what, string id, string? field = null) =>
        new(ErrorKind.NotFound, "not_found", $"{what} {id} not found", field);
}
