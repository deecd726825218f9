using WapBridge.Core.Common;
using WapBridge.Core.Engines;

namespace WapBridge.Core.Instances;

/// <summary>Engine failures as the API's errors: engines throw their own <see cref="EngineException"/>s, the instance edge maps them here.</summary>
public static class EngineErrors
{
    /// <summary>A call an instance's session refused: a conflict with the instance's state, which the caller named by <c>instance_id</c>.</summary>
    public static WapBridgeException ForInstance(EngineException e) => e switch
    {
        EngineFeatureUnavailableException unavailable => FeatureUnavailable(unavailable.Feature, "instance_id"),
        // The thing named does not exist for this account: the caller's service names its field (group_id, link, …).
        EngineNotFoundException => new(ErrorKind.NotFound, e.Code, e.Message),
        _ => new(ErrorKind.Conflict, e.Code, e.Message, "instance_id"),
    };

    /// <summary>
    /// 409 <c>instance_not_connected</c> naming <c>instance_id</c>: the instance is <paramref name="state"/> (a state or
    /// "not connected"), and must be connected <paramref name="when"/> ("first", "before sending").
    /// </summary>
    public static WapBridgeException NotConnected(string instanceCode, string state, string when) =>
        new(ErrorKind.InstanceNotConnected, "instance_not_connected",
            $"Instance {instanceCode} is {state}: connect it (scan its QR code in /instances) {when}.", "instance_id");

    /// <summary>The instance's engine cannot do <paramref name="feature"/>, which the caller asked for with <paramref name="field"/>.</summary>
    public static WapBridgeException FeatureUnavailable(string feature, string field) =>
        new(ErrorKind.EngineFeatureUnavailable, "engine_feature_unavailable",
            $"The instance's engine cannot do {feature}; use an instance on an engine that can (the simulator does everything).", field);
}
