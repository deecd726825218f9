using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WapBridge.Core.Cluster;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Instances;

public static partial class InstancesServiceCollectionExtensions
{
    /// <summary>
    /// This node's instances: one actor per instance in the cluster (<see cref="ClusterHosting.AddWapBridgeCluster"/>)
    /// and the operations on them. Engines come first (<c>AddEngines</c>).
    /// </summary>
    public static IHostApplicationBuilder AddInstances(this IHostApplicationBuilder builder, DatabaseOptions database, string dataDir)
    {
        var section = builder.Configuration.GetSection(NodeOptions.Section);
        builder.Services.AddValidatedOptions<NodeOptions>(section, Problems);
        builder.AddWapBridgeCluster(database.ParsedProvider, database.ResolveConnectionString(dataDir), NodeId(builder));
        builder.Services.AddSingleton<InstanceService>();
        builder.Services.AddSingleton<InstanceStateStore>();
        builder.Services.AddSingleton<ReconnectScheduler>();
        builder.Services.AddSingleton<EngineEventProcessor>();
        builder.Services.AddSingleton<InstanceDashboard>();
        return builder;
    }

    /// <summary>The node id as configured (the default when unset); the host's options are not built yet.</summary>
    public static string NodeId(IHostApplicationBuilder builder) =>
        builder.Configuration.GetSection(NodeOptions.Section).Get<NodeOptions>()?.Id ?? new NodeOptions().Id;

    private static IEnumerable<string> Problems(NodeOptions o)
    {
        if (o.Id is null || !TwoDigits().IsMatch(o.Id))
            yield return $"{ValidatedOptions.Setting(NodeOptions.Section, nameof(NodeOptions.Id))} is '{o.Id}'; it must be two digits such as 01 "
                + "(the NN of the instance codes INST-NN-NNNNNNN this node creates), different on every node.";
    }

    [GeneratedRegex("^[0-9]{2}$")]
    private static partial Regex TwoDigits();
}
