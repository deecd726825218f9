namespace WapBridge.Core.Cluster;

/// <summary>
/// Section <c>WapBridge:Cluster</c> (contract §10): how nodes sharing one PostgreSQL database find each other. On SQLite
/// the process is a cluster of one and none of these is needed.
/// </summary>
public sealed class ClusterSettings
{
    public const string Section = "WapBridge:Cluster";

    /// <summary>Nodes on the same database with the same id form one cluster.</summary>
    public string Id { get; set; } = "wapbridge";

    /// <summary>Where nodes talk to each other; on SQLite a free loopback port is taken when unset.</summary>
    public int? SiloPort { get; set; }

    /// <summary>Orleans' client gateway; on SQLite there is none unless set.</summary>
    public int? GatewayPort { get; set; }

    /// <summary>The address other nodes reach this one at.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// At most this many instances live on one node (0: no cap); new and failed-over instances go to the least loaded
    /// node below it. No cap by default, so an upgraded single server never refuses an instance it had.
    /// </summary>
    public int MaxInstancesPerNode { get; set; }

    public const int DefaultSiloPort = 11111;
    public const int DefaultGatewayPort = 30000;
}
