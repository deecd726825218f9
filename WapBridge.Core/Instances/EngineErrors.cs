using WapBridge.Core.Common;
using WapBridge.Core.Engines;

namespace WapBridge.Core.Instances;

/// <summary>Engine failures as the API's errors: engines throw their own <see cref="EngineException"/>s, the instance edge maps them here.</summary>
internal static class EngineErrors
{
    /// <summary>A call an instance's session refused: a conflict with the instance's state, which the caller named by <c>instance_id</c>.</summary>
    public static WapBridgeException ForInstance(EngineException e) => new(ErrorKind.Conflict, e.Code, e.Message, "instance_id");
}
