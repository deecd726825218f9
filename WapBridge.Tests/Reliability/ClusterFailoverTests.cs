using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Reliability;

/// <summary>
/// Issue 16: a cluster of three real WapBridge processes on one PostgreSQL database, each with its own data folder,
/// HTTP port and silo ports. One node is killed with <c>kill -9</c> while it holds instances and a campaign runs on
/// one of them; the survivors must take its instances over without two nodes ever holding one connection, keep
/// sending, finish the campaign exactly once per recipient, and deliver every webhook event of the period.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ClusterFailoverTests
{
    private const string P = "wap_bridge.api.";
    private const int InstanceCount = 6;
    private const int Recipients = 36;
    private static readonly TimeSpan FailoverDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Kill_9_of_a_node_moves_its_instances_to_survivors_once_and_loses_no_send_campaign_recipient_or_webhook()
    {
        var server = PostgresDatabase.ServerConnection();
        if (server is null)
            Assert.Skip($"PostgreSQL is not available: set {PostgresDatabase.ServerVariable} (scripts/test.sh does).");
        var ct = TestContext.Current.CancellationToken;
        await using var database = PostgresDatabase.Create(server);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var cluster = new Cluster(database.ConnectionString);
        var clock = Stopwatch.StartNew();
        using var stopInjecting = new CancellationTokenSource();
        Task? injector = null;
        HttpClient[] api = [];
        try
        {
            await cluster.StartAsync(["01", "02", "03"]);
            Log($"{clock.Elapsed.TotalSeconds:0.0} s: three nodes healthy");

            using var admin = cluster.Nodes[0].Client("Bearer " + cluster.AdminToken);
            var customer = (await admin.CallAsync(P + "admin.create_customer", new { name = "Cluster", email = "cluster@example.com" })).EnsureOk().Message!["customer"]!.GetValue<string>();
            var authorization = (await admin.CallAsync(P + "admin.create_api_key", new { customer })).EnsureOk().Message!["authorization"]!.GetValue<string>();
            api = cluster.Nodes.Select(n => n.Client(authorization)).ToArray();
            (await api[1].CallAsync(P + "settings.set_webhook", new { url = receiver.Url, events = new[] { "message", "instance.status" } })).EnsureOk();

            // Created through each node in turn and paired through the next one, which may not host it.
            var instances = new List<string>();
            for (var i = 0; i < InstanceCount; i++)
            {
                var id = (await api[i % 3].CallAsync(P + "instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
                (await api[(i + 1) % 3].CallAsync(P + "simulator.scan_qr", new { instance_id = id, phone_number = $"25575{i + 1:D7}" })).EnsureOk();
                instances.Add(id);
            }
            var placed = new Dictionary<string, string>();
            foreach (var (id, i) in instances.Select((id, i) => (id, i)))
                placed[id] = await WaitConnectedAsync(api[(i + 2) % 3], id, _ => true, TimeSpan.FromSeconds(30));
            Log($"{clock.Elapsed.TotalSeconds:0.0} s: instances connected: {string.Join(", ", placed.Select(p => $"{p.Key}@{p.Value}"))}");
            Assert.True(placed.Values.Distinct().Count() >= 2, $"the instances did not spread over the nodes: {string.Join(", ", placed.Select(p => $"{p.Key}@{p.Value}"))}");

            // The victim: the node holding the most instances; the campaign runs on one of them.
            var victimId = placed.Values.GroupBy(n => n).OrderByDescending(g => g.Count()).First().Key;
            var victim = cluster.Nodes.Single(n => n.Id == victimId);
            var survivors = cluster.Nodes.Where(n => n != victim).ToList();
            var moving = placed.Where(p => p.Value == victimId).Select(p => p.Key).ToList();
            var campaignInstance = moving[0];
            using var survivorApi = survivors[0].Client(authorization);

            var numbers = Enumerable.Range(0, Recipients).Select(i => $"2557630{i:D5}").ToArray();
            var campaign = (await api[0].CallAsync(P + "campaigns.create_and_start_campaign", new
            {
                instance_id = campaignInstance, message = "cluster {{n}}", recipients = numbers.Select((n, i) => new { phone_number = n, n = i }).ToArray(),
                throttle = new { min_delay_seconds = 0.3, max_delay_seconds = 0.6 },
            })).EnsureOk().Message!["campaign"]!.GetValue<string>();

            // Inbound messages for every instance through every node, before, during and after the kill.
            var accepted = new ConcurrentDictionary<string, byte>();
            injector = InjectAsync(cluster.Nodes, authorization, instances, accepted, stopInjecting.Token);

            JsonNode progress;
            var started = Stopwatch.StartNew();
            while ((progress = (await survivorApi.CallAsync(P + "campaigns.campaign_status", new { campaign })).EnsureOk().Message!)["sent"]!.GetValue<int>() < 4)
            {
                Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"the campaign did not start sending: {progress.ToJsonString()}");
                await Task.Delay(100, ct);
            }

            var killedAt = DateTimeOffset.UtcNow;
            var sinceKill = Stopwatch.StartNew();
            await victim.Process.KillAsync();
            Log($"{clock.Elapsed.TotalSeconds:0.0} s: killed node {victimId} holding {string.Join(", ", moving)}; campaign {campaign} on {campaignInstance}: " +
                $"{progress["sent"]} of {Recipients} sent; {accepted.Count} inbound accepted so far");

            // (a) Every instance of the dead node is connected on a survivor within the deadline.
            var movedTo = new ConcurrentDictionary<string, (string Node, TimeSpan After)>();
            await Task.WhenAll(moving.Select(async (id, k) =>
            {
                using var client = survivors[k % survivors.Count].Client(authorization);
                var node = await WaitConnectedAsync(client, id, n => n != victimId, FailoverDeadline - sinceKill.Elapsed);
                movedTo[id] = (node, sinceKill.Elapsed);
            }));
            var failover = movedTo.Values.Max(m => m.After);
            Log($"{clock.Elapsed.TotalSeconds:0.0} s: failover took {failover.TotalSeconds:0.0} s: " +
                string.Join(", ", movedTo.Select(m => $"{m.Key}@{m.Value.Node} after {m.Value.After.TotalSeconds:0.0} s")));
            Assert.True(failover < FailoverDeadline, $"failover took {failover.TotalSeconds:0.0} s");
            // Only the dead node's instances moved: the survivors kept theirs (with Orleans' default grain directory, those
            // whose directory entry the dead node kept were deactivated and reconnected too).
            foreach (var (id, node) in placed.Where(p => p.Value != victimId))
            {
                var now = (await survivorApi.CallAsync(P + "instances.instance_status", new { instance_id = id })).EnsureOk().Message!;
                Assert.True(now["node"]!.GetValue<string>() == node && now["status"]!.GetValue<string>() == "connected", $"{id} of surviving node {node}: {now.ToJsonString()}");
            }

            // (c) A send accepted by each surviving node for every instance is delivered.
            var sends = new List<(string Node, string Instance, string Id)>();
            foreach (var node in survivors)
            {
                using var client = node.Client(authorization);
                foreach (var (id, i) in instances.Select((id, i) => (id, i)))
                {
                    var answer = (await client.CallAsync(P + "whatsapp.send_api_message", new { instance_id = id, to_number = $"25576400{i:D2}{node.Id}", message = $"via {node.Id}", wait = 0 }))
                        .EnsureOk().Message!;
                    sends.Add((node.Id, id, answer["id"]!.GetValue<string>()));
                }
            }
            foreach (var (node, id, message) in sends)
            {
                var record = await survivorApi.WaitForMessageAsync(message, r => r["delivered_at"] is not null, 30);
                Assert.True(record["status"]!.GetValue<string>() is "delivered" or "read", $"send {message} of {id} accepted by node {node}: {record.ToJsonString()}");
            }
            Log($"{clock.Elapsed.TotalSeconds:0.0} s: {sends.Count} sends accepted by the survivors delivered");

            // (d) The campaign completes, every recipient sent exactly once.
            JsonNode status;
            while ((status = (await survivorApi.CallAsync(P + "campaigns.campaign_status", new { campaign })).EnsureOk().Message!)["status"]!.GetValue<string>() != "completed")
            {
                Assert.True(sinceKill.Elapsed < TimeSpan.FromSeconds(240), $"the campaign did not complete after the kill: {status.ToJsonString()}");
                await Task.Delay(250, ct);
            }
            Log($"{clock.Elapsed.TotalSeconds:0.0} s: campaign completed: {status.ToJsonString()}");
            Assert.Equal(Recipients, status["total"]!.GetValue<int>());
            Assert.Equal(0, status["pending"]!.GetValue<int>());
            Assert.Equal(0, status["failed"]!.GetValue<int>());
            Assert.Equal(Recipients, status["sent"]!.GetValue<int>());
            var recipients = (await survivorApi.CallAsync(P + "campaigns.campaign_recipients", new { campaign, limit = 500 })).EnsureOk().Message!["data"]!.AsArray();
            Assert.Equal(numbers.Order(), recipients.Select(r => r!["number"]!.GetValue<string>()).Order());
            Assert.All(recipients, r => Assert.True(r!["state"]!.GetValue<string>() is "sent" or "delivered" or "read", r.ToJsonString()));
            await AssertOneMessagePerRecipientAsync(database.ConnectionString, campaign, numbers);

            // (e) Every webhook event of the period arrives; a repeat only with the webhook-id of its first delivery.
            await stopInjecting.CancelAsync();
            await injector;
            var events = await WebhookEventsAsync(database.ConnectionString);
            var received = await receiver.WaitForAsync(r =>
            {
                var ids = r.Select(w => w.Header("webhook-id")).ToHashSet();
                var messageIds = r.Select(w => w.MessageId()).OfType<string>().ToHashSet();
                return events.All(ids.Contains) && accepted.Keys.All(messageIds.Contains);
            }, 120);
            var unknown = received.Where(w => !events.Contains(w.Header("webhook-id"))).Select(w => w.Body).ToList();
            Assert.True(unknown.Count == 0, $"webhooks whose webhook-id no event has: {string.Join(" | ", unknown.Take(5))}");
            var renamed = received.GroupBy(w => w.Body).Concat(received.Where(w => w.MessageId() is not null).GroupBy(w => w.MessageId()!))
                .Where(g => g.Select(w => w.Header("webhook-id")).Distinct().Count() > 1).Select(g => g.Key).ToList();
            Assert.True(renamed.Count == 0, $"events repeated under another webhook-id: {string.Join(" | ", renamed.Take(5))}");
            var statusEvents = received.Where(w => w.Body.Contains("\"instance.status\"", StringComparison.Ordinal)).Select(w => JsonNode.Parse(w.Body)!).ToList();
            foreach (var id in moving)
                Assert.Contains(statusEvents, e => e["instance_id"]!.GetValue<string>() == id && e["data"]!["status"]!.GetValue<string>() == "connected"
                    && DateTimeOffset.FromUnixTimeSeconds(e["timestamp"]!.GetValue<long>()) >= killedAt.AddSeconds(-1));
            Log($"{clock.Elapsed.TotalSeconds:0.0} s: {events.Count} webhook events, {received.Count} posts ({received.Count - received.Select(w => w.Header("webhook-id")).Distinct().Count()} repeats), " +
                $"{accepted.Count} inbound messages accepted and delivered");

            // (b) No instance was ever connected on two nodes at once.
            await AssertNeverConnectedTwiceAsync(database.ConnectionString, victimId, killedAt, placed.Where(p => p.Value != victimId).Select(p => p.Key).ToHashSet());
        }
        catch
        {
            foreach (var node in cluster.Started)
                Log($"node {node.Id} log tail:\n{node.Process.Tail(40)}");
            throw;
        }
        finally
        {
            await stopInjecting.CancelAsync();
            if (injector is not null)
                await injector.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            foreach (var client in api)
                client.Dispose();
        }
    }

    [Fact]
    public async Task A_node_started_with_the_id_of_a_live_node_stops_and_says_which_setting_to_change()
    {
        var server = PostgresDatabase.ServerConnection();
        if (server is null)
            Assert.Skip($"PostgreSQL is not available: set {PostgresDatabase.ServerVariable} (scripts/test.sh does).");
        await using var database = PostgresDatabase.Create(server);
        await using var cluster = new Cluster(database.ConnectionString);
        await cluster.StartAsync(["01"]);

        var twin = cluster.Add("01");
        var clock = Stopwatch.StartNew();
        while (!twin.Process.HasExited)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"the second node with id 01 kept running; log tail:\n{twin.Process.Tail()}");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        var log = await File.ReadAllTextAsync(twin.Process.LogPath, TestContext.Current.CancellationToken);
        Assert.True(twin.Process.ExitCode == 3, $"exit code {twin.Process.ExitCode}, not 3; log tail:\n{twin.Process.Tail(60)}");
        Assert.Contains("WAPBRIDGE_Node__Id", log);
        // The first node was not disturbed.
        using var probe = cluster.Nodes[0].Client("");
        Assert.Equal(200, (int)(await probe.GetAsync("healthz", TestContext.Current.CancellationToken)).StatusCode);
    }

    /// <summary>
    /// The outbox reports a send in memory on the node the instance lives on. A campaign runner or a waited send on
    /// another node must still see it at once (it used to wait out its whole bound: 30 s a campaign recipient, 15 s a
    /// send). Node 01 hosts the instance and runs no jobs, so the campaign runs on node 02.
    /// </summary>
    [Fact]
    public async Task A_campaign_and_a_waited_send_on_a_node_that_does_not_host_the_instance_see_each_send_at_once()
    {
        var server = PostgresDatabase.ServerConnection();
        if (server is null)
            Assert.Skip($"PostgreSQL is not available: set {PostgresDatabase.ServerVariable} (scripts/test.sh does).");
        var ct = TestContext.Current.CancellationToken;
        await using var database = PostgresDatabase.Create(server);
        await using var cluster = new Cluster(database.ConnectionString);
        await cluster.StartAsync([("01", new Dictionary<string, string> { ["WAPBRIDGE_Hangfire__ServerEnabled"] = "false" })]);
        using var admin = cluster.Nodes[0].Client("Bearer " + cluster.AdminToken);
        var customer = (await admin.CallAsync(P + "admin.create_customer", new { name = "Remote", email = "remote@example.com" })).EnsureOk().Message!["customer"]!.GetValue<string>();
        var authorization = (await admin.CallAsync(P + "admin.create_api_key", new { customer })).EnsureOk().Message!["authorization"]!.GetValue<string>();
        using var first = cluster.Nodes[0].Client(authorization);
        var instance = (await first.CallAsync(P + "instances.create_instance", new { engine = "simulator" })).EnsureOk().Message!["instance_id"]!.GetValue<string>();
        (await first.CallAsync(P + "simulator.scan_qr", new { instance_id = instance, phone_number = "255750000101" })).EnsureOk();
        Assert.Equal("01", await WaitConnectedAsync(first, instance, _ => true, TimeSpan.FromSeconds(30)));

        await cluster.StartAsync([("02", [])]);
        using var second = cluster.Nodes[1].Client(authorization);
        var clock = Stopwatch.StartNew();
        var sent = (await second.CallAsync(P + "whatsapp.send_api_message", new { instance_id = instance, to_number = "255766000101", message = "through 02", wait = 15 }))
            .EnsureOk().Message!;
        // The simulated phone's receipts may overtake the answer on a loaded machine: any status past "sent" went out too.
        Assert.Contains(sent["status"]!.GetValue<string>(), new[] { "sent", "delivered", "read" });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the waited send took {clock.Elapsed.TotalSeconds:0.0} s");

        var numbers = Enumerable.Range(0, 8).Select(i => $"2557660{i:D5}").ToArray();
        var campaign = (await second.CallAsync(P + "campaigns.create_and_start_campaign", new
        {
            instance_id = instance, message = "remote", recipients = numbers, throttle = new { min_delay_seconds = 0.1, max_delay_seconds = 0.2 },
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        clock.Restart();
        JsonNode status;
        while ((status = (await second.CallAsync(P + "campaigns.campaign_status", new { campaign })).EnsureOk().Message!)["status"]!.GetValue<string>() != "completed")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"8 recipients 0.1–0.2 s apart took over a minute: {status.ToJsonString()}");
            await Task.Delay(200, ct);
        }
        Assert.Equal(8, status["sent"]!.GetValue<int>());
        Log($"campaign of 8 completed in {clock.Elapsed.TotalSeconds:0.0} s through node 02");
    }

    /// <summary>Polls instance_status until the instance is connected on a node <paramref name="accept"/> takes; answers that node.</summary>
    private static async Task<string> WaitConnectedAsync(HttpClient client, string instanceId, Func<string, bool> accept, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        JsonNode? last = null;
        while (true)
        {
            try
            {
                var answer = await client.CallAsync(P + "instances.instance_status", new { instance_id = instanceId });
                last = answer.Body;
                if (answer.Status == 200 && answer.Message!["status"]!.GetValue<string>() == "connected" && answer.Message["node"]?.GetValue<string>() is { } node && accept(node))
                    return node;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // A call routed through a node that just died: ask again.
            }
            Assert.True(clock.Elapsed < within, $"instance {instanceId} was not connected on an accepted node within {within.TotalSeconds:0} s; last: {last?.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Random inbound messages for random instances through random nodes; only a 200 counts as accepted.</summary>
    private static async Task InjectAsync(IReadOnlyList<Node> nodes, string authorization, IReadOnlyList<string> instances, ConcurrentDictionary<string, byte> accepted,
        CancellationToken stop)
    {
        var clients = nodes.Select(n => n.Client(authorization, TimeSpan.FromSeconds(10))).ToArray();
        try
        {
            var random = new Random(16);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var client = clients[random.Next(clients.Length)];
                try
                {
                    var answer = await client.CallAsync(P + "simulator.inbound_message", new
                    {
                        instance_id = instances[random.Next(instances.Count)], from_number = $"2557650{n % 1000:D5}", message = $"inbound {n}",
                    });
                    if (answer.Status == 200)
                        accepted.TryAdd(answer.Message!["id"]!.GetValue<string>(), 0);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
                {
                    // A node that died or an instance moving: this message was not accepted.
                }
                await Task.Delay(50, CancellationToken.None);
            }
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
        }
    }

    /// <summary>
    /// One outbound message row per recipient (a second row would be a second message on the phone), each sent or
    /// beyond, and every recipient pointing at its own message.
    /// </summary>
    private static async Task AssertOneMessagePerRecipientAsync(string connectionString, string campaign, string[] numbers)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        var messages = await RowsAsync(db, """
            SELECT m."Id", m."ToNumber", m."Status" FROM "Messages" m JOIN "Campaigns" c ON c."Id" = m."CampaignId"
            WHERE c."Code" = @code AND m."Direction" = 'outbound'
            """, new() { ["code"] = campaign }, r => (Id: r.GetInt64(0), To: r.GetString(1), Status: r.GetString(2)));
        var twice = messages.GroupBy(m => m.To).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        Assert.True(twice.Count == 0, $"recipients messaged more than once: {string.Join(", ", twice)}");
        Assert.Equal(numbers.Order(), messages.Select(m => m.To).Order());
        var unsent = messages.Where(m => m.Status is not ("sent" or "delivered" or "read")).Select(m => $"{m.To} {m.Status}").ToList();
        Assert.True(unsent.Count == 0, $"campaign messages that never reached WhatsApp: {string.Join(", ", unsent)}");
        var recipients = await RowsAsync(db, """
            SELECT r."Number", r."MessageId" FROM "CampaignRecipients" r JOIN "Campaigns" c ON c."Id" = r."CampaignId" WHERE c."Code" = @code
            """, new() { ["code"] = campaign }, r => (Number: r.GetString(0), MessageId: r.IsDBNull(1) ? (long?)null : r.GetInt64(1)));
        var byId = messages.ToDictionary(m => m.Id);
        foreach (var r in recipients)
            Assert.True(r.MessageId is { } id && byId.TryGetValue(id, out var m) && m.To == r.Number, $"recipient {r.Number} does not point at its message ({r.MessageId})");
    }

    /// <summary>The webhook-ids of every event the cluster recorded for delivery.</summary>
    private static async Task<HashSet<string>> WebhookEventsAsync(string connectionString)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        return (await RowsAsync(db, """SELECT "EventId" FROM "WebhookDeliveries" """, [], r => r.GetString(0))).ToHashSet();
    }

    /// <summary>
    /// From the state history with node ids: a node holds an instance's connection from its <c>connected</c> record
    /// until that same node records the instance's next state (or, for the killed node, until the kill). Ending it
    /// only at the node's own next record is stricter than at any node's: a node that went on believing itself
    /// connected while another connected counts as an overlap.
    /// </summary>
    /// <remarks>The survivors' own instances (<paramref name="stayed"/>) have no state change after the kill at all.</remarks>
    private static async Task AssertNeverConnectedTwiceAsync(string connectionString, string victim, DateTimeOffset killedAt, IReadOnlySet<string> stayed)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        var changes = await RowsAsync(db, """
            SELECT i."Code", s."State", s."NodeId", s."At" FROM "InstanceStateChanges" s JOIN "Instances" i ON i."Id" = s."InstanceId" ORDER BY s."At", s."Id"
            """, [], r => (Instance: r.GetString(0), State: r.GetString(1), Node: r.IsDBNull(2) ? "" : r.GetString(2), At: r.GetFieldValue<DateTimeOffset>(3)));
        var end = DateTimeOffset.UtcNow.AddYears(1);
        foreach (var history in changes.GroupBy(c => c.Instance))
        {
            var list = history.ToList();
            var held = new List<(string Node, DateTimeOffset From, DateTimeOffset To)>();
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].State != "connected")
                    continue;
                var to = list.Skip(i + 1).FirstOrDefault(c => c.Node == list[i].Node).At is var next && next != default ? next : end;
                if (list[i].Node == victim && to > killedAt)
                    to = killedAt;
                held.Add((list[i].Node, list[i].At, to));
            }
            foreach (var a in held)
                foreach (var b in held.Where(b => b.Node != a.Node && b.From >= a.From))
                    Assert.True(b.From >= a.To,
                        $"instance {history.Key} was connected on node {a.Node} ({a.From:O} to {a.To:O}) and node {b.Node} (from {b.From:O}) at once; history: " +
                        string.Join(", ", list.Select(c => $"{c.At:HH:mm:ss.fff} {c.Node} {c.State}")));
        }
        Assert.Contains(changes, c => c.Node != victim && c.State == "connected" && c.At >= killedAt);
        var disturbed = changes.Where(c => stayed.Contains(c.Instance) && c.At >= killedAt).Select(c => $"{c.Instance} {c.Node} {c.State} {c.At:HH:mm:ss.fff}").ToList();
        Assert.True(disturbed.Count == 0, $"instances of surviving nodes changed state after the kill: {string.Join(", ", disturbed)}");
    }

    private static async Task<List<T>> RowsAsync<T>(NpgsqlConnection db, string sql, Dictionary<string, object> parameters, Func<NpgsqlDataReader, T> read)
    {
        await using var command = new NpgsqlCommand(sql, db);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
            rows.Add(read(reader));
        return rows;
    }

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    /// <summary>One WapBridge process of the cluster: its node id, settings (HTTP address) and process.</summary>
    private sealed record Node(string Id, GatewaySettings Settings, GatewayProcess Process)
    {
        public Uri Address => Settings.Address;

        public HttpClient Client(string authorization, TimeSpan? timeout = null) => Settings.Client(authorization, timeout);
    }

    /// <summary>Nodes on one database, each with its own data folder, HTTP port and silo ports, as an operator runs them.</summary>
    private sealed class Cluster(string connectionString) : IAsyncDisposable
    {
        private readonly List<Node> _started = [];

        /// <summary>Every process started, running or not.</summary>
        public IReadOnlyList<Node> Started => _started;

        public string AdminToken { get; } = GatewayProcess.NewAdminToken();
        public List<Node> Nodes { get; } = [];

        public Task StartAsync(IReadOnlyList<string> ids) => StartAsync(ids.Select(id => (id, new Dictionary<string, string>())).ToList());

        /// <summary>The first node alone when it is the cluster's first (it migrates the database), then the others together.</summary>
        public async Task StartAsync(IReadOnlyList<(string Id, Dictionary<string, string> Settings)> nodes)
        {
            var skip = 0;
            if (Nodes.Count == 0)
            {
                var first = Add(nodes[0].Id, nodes[0].Settings);
                await first.Process.WaitHealthyAsync(first.Address, TimeSpan.FromSeconds(120));
                Nodes.Add(first);
                skip = 1;
            }
            var rest = nodes.Skip(skip).Select(n => Add(n.Id, n.Settings)).ToList();
            await Task.WhenAll(rest.Select(n => n.Process.WaitHealthyAsync(n.Address, TimeSpan.FromSeconds(120))));
            Nodes.AddRange(rest);
        }

        /// <summary>Starts a node (not added to <see cref="Nodes"/>); it is killed and its folder deleted with the cluster.</summary>
        public Node Add(string id, Dictionary<string, string>? overrides = null)
        {
            var settings = new GatewaySettings(AdminToken).AsClusterNode(id, connectionString).WithFastRecovery()
                // A dead node's campaign lease (slice + 1 min) runs out sooner, and the sweep finds it at once.
                .Set("WAPBRIDGE_Campaigns__RunnerSlice", "00:00:10")
                .Set(overrides ?? []);
            var node = new Node(id, settings, settings.Start(GatewayProcess.NewDataDir()));
            _started.Add(node);
            return node;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var node in _started)
            {
                await node.Process.DisposeAsync();
                try { Directory.Delete(node.Process.DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }
}
