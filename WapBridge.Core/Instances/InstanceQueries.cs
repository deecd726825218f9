using System.Globalization;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Common;

namespace WapBridge.Core.Instances;

public static class InstanceQueries
{
    /// <summary>The instance with this row id, untracked; the API's 404 (<c>instance_id</c>) when it is gone (deleted meanwhile).</summary>
    public static async Task<Instance> ByIdAsync(this IQueryable<Instance> instances, int instanceId, CancellationToken ct) =>
        await instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId, ct)
            ?? throw WapBridgeException.NotFound("Instance", instanceId.ToString(CultureInfo.InvariantCulture), "instance_id");
}
