using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace WapBridge.Bench;

/// <summary>
/// <c>--failover</c>: three nodes on one PostgreSQL database, N simulator instances spread over them, then
/// <c>kill -9</c> of the node holding the most; the figure is the time from the kill until every instance of the dead
/// node is <c>connected</c> on a survivor (list_instances' <c>status</c> and <c>node</c>), over several runs, each on a
/// database of its own.
/// </summary>
public sealed class FailoverMode(BenchOptions o)
{
    private const double TargetSeconds = 60;
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(180);
    private static readonly string[] NodeIds = ["01", "02", "03"];

    private readonly List<Gateway> _running = [];

    public async Task<int> RunAsync(string dll)
    {
        var server = o.Postgres ?? Environment.GetEnvironmentVariable("TEST_POSTGRES_CONNECTION");
        if (string.IsNullOrWhiteSpace(server))
        {
            Console.Error.WriteLine("--failover needs PostgreSQL: pass --postgres \"Host=…;Username=…;Password=…\" or set TEST_POSTGRES_CONNECTION.");
            return 2;
        }
        Console.CancelKeyPress += (_, _) =>
        {
            // Never leave nodes behind.
            foreach (var gateway in _running.ToList())
                gateway.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        };
        Console.WriteLine($"WapBridge benchmark, failover: 3 nodes, {o.FailoverInstances} simulator instances, kill -9 of the busiest node, {o.Runs} runs; "
            + $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Report.Load()}");
        Console.WriteLine($"gateway: {Path.GetRelativePath(Environment.CurrentDirectory, dll)}");

        var times = new List<double>();
        var failed = 0;
        for (var run = 1; run <= o.Runs; run++)
        {
            if (await RunOnceAsync(dll, server, run) is { } seconds)
                times.Add(seconds);
            else
                failed++;
        }

        Report.Header("FAILOVER  kill -9 of one of 3 nodes → its instances connected on the survivors");
        if (times.Count > 0)
        {
            var sorted = times.Order().ToList();
            var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
            Report.Row("time to all connected: min / median / max", $"{sorted[0]:0.0} / {median:0.0} / {sorted[^1]:0.0} s", $"< {TargetSeconds:0} s",
                Report.Verdict(failed == 0 && sorted[^1] < TargetSeconds));
        }
        Report.Row("runs that finished", $"{times.Count} of {o.Runs}", "all", Report.Verdict(failed == 0));
        return 0;
    }

    /// <returns>Seconds from the kill until the dead node's instances were all connected elsewhere; null when they never were.</returns>
    private async Task<double?> RunOnceAsync(string dll, string server, int run)
    {
        var database = "wapbridge_bench_failover_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        var nodes = new Dictionary<string, Gateway>();
        try
        {
            Console.Write($"run {run}: starting 3 nodes… ");
            var clock = Stopwatch.StartNew();
            // The first alone: it migrates the database.
            nodes[NodeIds[0]] = await StartNodeAsync(dll, NodeIds[0], connectionString);
            var rest = await Task.WhenAll(NodeIds.Skip(1).Select(id => StartNodeAsync(dll, id, connectionString)));
            foreach (var (id, gateway) in NodeIds.Skip(1).Zip(rest))
                nodes[id] = gateway;
            Console.Write($"{clock.Elapsed.TotalSeconds:0.0} s; pairing {o.FailoverInstances} instances… ");

            var first = nodes[NodeIds[0]];
            var authorization = await CustomerAsync(first);
            var clients = NodeIds.ToDictionary(id => id, id => nodes[id].ApiClient(authorization, TimeSpan.FromSeconds(30)));
            try
            {
                // Created through each node in turn, paired through the next.
                await Parallel.ForEachAsync(Enumerable.Range(0, o.FailoverInstances), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
                {
                    var instance = (await Gateway.CallAsync(clients[NodeIds[i % 3]], "wap_bridge.api.instances.create_instance", new { engine = "simulator" }))["instance_id"]!.GetValue<string>();
                    await Gateway.CallAsync(clients[NodeIds[(i + 1) % 3]], "wap_bridge.api.simulator.scan_qr",
                        new { instance_id = instance, phone_number = "25575" + (i + 1).ToString("D7", CultureInfo.InvariantCulture) });
                });
                var placed = await WaitAsync(clients[NodeIds[0]], all => all.Count == o.FailoverInstances && all.All(i => i.Status == "connected"), TimeSpan.FromSeconds(120))
                    ?? throw new TimeoutException($"the {o.FailoverInstances} instances did not all connect within 120 s");
                var perNode = placed.GroupBy(i => i.Node).OrderBy(g => g.Key).ToList();
                Console.WriteLine(string.Join(", ", perNode.Select(g => $"{g.Count()} on node {g.Key}")));

                var victim = perNode.OrderByDescending(g => g.Count()).First().Key;
                var moving = placed.Where(i => i.Node == victim).Select(i => i.Id).ToHashSet();
                var survivor = clients[NodeIds.First(id => id != victim)];
                var sinceKill = Stopwatch.StartNew();
                await nodes[victim].KillAsync();
                var done = await WaitAsync(survivor, all => all.Where(i => moving.Contains(i.Id)).All(i => i.Status == "connected" && i.Node != victim), GiveUpAfter);
                var seconds = sinceKill.Elapsed.TotalSeconds;
                if (done is null)
                {
                    Console.WriteLine($"run {run}: killed node {victim} ({moving.Count} instances); they were not all connected elsewhere after {GiveUpAfter.TotalSeconds:0} s");
                    return null;
                }
                // Orleans also deactivates survivors' instances whose directory entry the dead node kept: they reconnect too.
                var before = placed.ToDictionary(i => i.Id, i => i.Node);
                var bounced = done.Count(i => !moving.Contains(i.Id) && (i.Node != before[i.Id] || i.Status != "connected"));
                Console.WriteLine($"run {run}: killed node {victim} ({moving.Count} instances); all connected on the survivors after {seconds:0.0} s ("
                    + string.Join(", ", done.Where(i => moving.Contains(i.Id)).GroupBy(i => i.Node).OrderBy(g => g.Key).Select(g => $"{g.Count()} to node {g.Key}"))
                    + $"); {bounced} of the survivors' own {placed.Count - moving.Count} instances moved or were reconnecting then");
                return seconds;
            }
            finally
            {
                foreach (var client in clients.Values)
                    client.Dispose();
            }
        }
        finally
        {
            foreach (var gateway in nodes.Values)
            {
                await gateway.DisposeAsync();
                _running.Remove(gateway);
            }
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(server);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private async Task<Gateway> StartNodeAsync(string dll, string id, string connectionString)
    {
        var gateway = await Gateway.StartAsync(dll, o.KeepData, new Dictionary<string, string>
        {
            ["WAPBRIDGE_Node__Id"] = id,
            ["WAPBRIDGE_Database__Provider"] = "postgres",
            ["WAPBRIDGE_Database__ConnectionString"] = connectionString,
            ["WAPBRIDGE_Cluster__SiloPort"] = Gateway.FreePort().ToString(CultureInfo.InvariantCulture),
            ["WAPBRIDGE_Cluster__GatewayPort"] = Gateway.FreePort().ToString(CultureInfo.InvariantCulture),
        });
        _running.Add(gateway);
        return gateway;
    }

    private static async Task<string> CustomerAsync(Gateway node)
    {
        using var admin = node.ApiClient("Bearer " + node.AdminToken);
        var customer = (await Gateway.CallAsync(admin, "wap_bridge.api.admin.create_customer", new { name = "Failover", email = "failover@example.com" }))["customer"]!.GetValue<string>();
        var key = await Gateway.CallAsync(admin, "wap_bridge.api.admin.create_api_key", new { customer, label = "bench" });
        return $"token {key["api_key"]!.GetValue<string>()}:{key["api_secret"]!.GetValue<string>()}";
    }

    private sealed record Placed(string Id, string Status, string Node);

    /// <summary>Polls list_instances every 100 ms until <paramref name="done"/> holds; null when time runs out.</summary>
    private static async Task<List<Placed>?> WaitAsync(HttpClient client, Func<List<Placed>, bool> done, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            try
            {
                using var response = await client.PostAsJsonAsync("api/method/wap_bridge.api.instances.list_instances", new { limit = 500 });
                if (response.IsSuccessStatusCode && JsonNode.Parse(await response.Content.ReadAsStringAsync())?["message"]?["data"]?.AsArray() is { } data)
                {
                    var all = data.Select(i => new Placed(i!["instance_id"]!.GetValue<string>(), i["status"]!.GetValue<string>(), i["node"]?.GetValue<string>() ?? "")).ToList();
                    if (done(all))
                        return all;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // The node answering was busy taking instances over: ask again.
            }
            await Task.Delay(100);
        }
        return null;
    }
}
