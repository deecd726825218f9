using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Serialization;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Cluster;

public static class ClusterHosting
{
    /// <summary>
    /// Makes this process a node of the WapBridge cluster (contract §10): on PostgreSQL it joins the nodes sharing the
    /// database (Orleans' ADO.NET membership, whose tables our migrations create); on SQLite it is a cluster of one on
    /// a free loopback port with no client gateway, so any number of processes run side by side with no setting.
    /// Registered where instance sessions belong in the start/stop order: they close before the services registered
    /// earlier stop.
    /// </summary>
    public static IHostApplicationBuilder AddWapBridgeCluster(this IHostApplicationBuilder builder, DatabaseProvider provider, string connectionString, string nodeId)
    {
        var section = builder.Configuration.GetSection(ClusterSettings.Section);
        var settings = section.Get<ClusterSettings>() ?? new ClusterSettings();
        var services = builder.Services;
        services.AddValidatedOptions<ClusterSettings>(section, Problems);
        services.AddSingleton<LocalInstances>();
        services.AddSingleton<ClusterView>();
        services.AddSingleton(new ClusterTopology(SingleNode: provider != DatabaseProvider.Postgres));
        services.AddSingleton<NodeFence>();
        services.AddLiveChanges();
        services.AddSingleton<SimulatedPhones>();
        services.AddSingleton<ClusterNodes>();
        services.AddSingleton<ClusterReadiness>();
        // The parts of a node start side by side: the web server listens while the silo starts (about a second), and
        // what needs the silo waits for ClusterReadiness. They still stop one by one, in reverse order.
        services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);

        // Orleans registers the system clock; the clock the host chose (a test's fake one) must stay everyone's.
        var clock = services.LastOrDefault(d => d.ServiceType == typeof(TimeProvider));
        builder.UseOrleans(silo =>
        {
            silo.Configure<SiloOptions>(o => o.SiloName = nodeId);
            silo.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("WapBridge"));
            silo.AddPlacementDirector<InstancePlacement, InstancePlacementDirector>();
            if (provider == DatabaseProvider.Postgres)
            {
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = settings.Id;
                    o.ServiceId = settings.Id;
                });
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
                var advertised = Advertised(settings.AdvertisedAddress);
                silo.ConfigureEndpoints(advertised, settings.SiloPort ?? ClusterSettings.DefaultSiloPort,
                    settings.GatewayPort ?? ClusterSettings.DefaultGatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
                // The default directory forgets the registrations a dead node kept, and Orleans then deactivates those
                // grains on the survivors: a third of their instances would reconnect with every failover. This one
                // recovers them from the survivors instead, so only the dead node's instances move.
#pragma warning disable ORLEANSEXP003
                silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
                // A killed node is declared dead after a few missed probes (about ten seconds), and its instances move.
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(3);
                    o.NumMissedProbesLimit = 3;
                    // The "last seen" of admin.list_nodes.
                    o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
                });
            }
            else
            {
                silo.UseLocalhostClustering(settings.SiloPort ?? FreeLoopbackPort(), settings.GatewayPort ?? 0,
                    serviceId: settings.Id, clusterId: settings.Id);
            }
        });
        if (clock is not null)
            services.Add(clock);
        services.AddSingleton<ClusterSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterSupervisor>());
        return builder;
    }

    private static IEnumerable<string> Problems(ClusterSettings o)
    {
        if (string.IsNullOrWhiteSpace(o.Id))
            yield return $"{ValidatedOptions.Setting(ClusterSettings.Section, nameof(o.Id))} is empty; nodes sharing a database need the same cluster id, e.g. wapbridge.";
        foreach (var (name, port) in new[] { (nameof(o.SiloPort), o.SiloPort), (nameof(o.GatewayPort), o.GatewayPort) })
            if (port is < 1 or > 65535)
                yield return $"{ValidatedOptions.Setting(ClusterSettings.Section, name)} is {port}; it must be a TCP port from 1 to 65535, or be unset.";
        if (o.MaxInstancesPerNode < 0)
            yield return $"{ValidatedOptions.Setting(ClusterSettings.Section, nameof(o.MaxInstancesPerNode))} is {o.MaxInstancesPerNode}; it must be 0 (no cap) or more.";
    }

    private static IPAddress Advertised(string address) =>
        IPAddress.TryParse(address, out var ip) ? ip
        : Dns.GetHostAddresses(address).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? throw new InvalidOperationException(
                $"WAPBRIDGE_Cluster__AdvertisedAddress '{address}' is neither an IP address nor a host name with an IPv4 address.");

    // Ports handed to silos of this process: the system may offer a released port again, and two silos at one endpoint
    // make Orleans take the older one for a dead predecessor, which then fails the whole process fast.
    private static readonly HashSet<int> HandedOutPorts = [];

    private static int FreeLoopbackPort()
    {
        while (true)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            lock (HandedOutPorts)
            {
                if (HandedOutPorts.Add(port))
                    return port;
            }
        }
    }
}
