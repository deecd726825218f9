using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

public sealed class ChunkedCampaignApp() : WapBridgeApp("sqlite", FastMessaging.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Hangfire:QueuePollInterval"] = "00:00:00.100",
    ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
    // Many small chunks: a create stays in flight long enough to be looked at.
    ["WapBridge:Campaigns:InsertChunkSize"] = "1000",
}));

/// <summary>
/// Issue 13 item 8: a big create must not hold SQLite's one writer for its whole length, must not be seen half
/// done, and must not be left half done by a crash.
/// </summary>
public sealed class CampaignCreationTests(ChunkedCampaignApp app) : IClassFixture<ChunkedCampaignApp>
{
    private const string P = "wap_bridge.api.campaigns.";

    private static string[] Numbers(int count, int prefix) =>
        Enumerable.Range(0, count).Select(i => $"2557{prefix:D2}{i:D6}").ToArray();

    [Fact]
    public async Task More_recipients_than_one_request_may_carry_are_refused_naming_recipients_and_the_fix()
    {
        var sender = await app.CreateConnectedAsync();
        var tooMany = Numbers(100_001, 10);
        var refused = await sender.Client.CallAsync(P + "create_and_start_campaign", new { instance_id = sender.InstanceId, message = "hi", recipients = tooMany });
        Assert.Equal(417, refused.Status);
        Assert.Equal("recipients", refused.ErrorField);
        Assert.Equal("too_many_recipients", refused.ErrorCode);
        Assert.Contains("100,000", refused.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Contains("add_campaign_recipients", refused.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(0, (await sender.Client.CallAsync(P + "list_campaigns")).EnsureOk().Message!["total"]!.GetValue<int>());

        var campaign = (await sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "hi", recipients = tooMany[..3], scheduled_at = DateTimeOffset.UtcNow.AddHours(1).ToString("O"),
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        var addRefused = await sender.Client.CallAsync(P + "add_campaign_recipients", new { campaign, recipients = tooMany });
        Assert.Equal(417, addRefused.Status);
        Assert.Equal("recipients", addRefused.ErrorField);
    }

    [Fact]
    public async Task A_campaign_is_hidden_until_its_last_chunk_is_stored()
    {
        var sender = await app.CreateConnectedAsync();
        var create = sender.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "hi", recipients = Numbers(50_000, 11), throttle = new { min_delay_seconds = 0, max_delay_seconds = 0 },
        });
        var (id, code) = await WaitForRecipientsAsync(app.DataDir, sender, create);

        // The key's last use is written at most once a minute: let that happen now, not while the writer is held below.
        (await sender.Client.CallAsync(P + "list_campaigns")).EnsureOk();
        // Freeze the create between two chunks: take the gateway's writer, queued in turn behind the chunk being stored.
        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var holder = await factory.CreateDbContextAsync(TestContext.Current.CancellationToken))
        await using (var hold = await holder.Database.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await using var read = Open(app.DataDir, readOnly: true);
            var (state, stored) = CampaignRow(read, id);
            Assert.Equal(CampaignState.Creating.ToWire(), state);
            Assert.InRange(stored, 1, 49_999);

            var list = (await sender.Client.CallAsync(P + "list_campaigns")).EnsureOk().Message!;
            Assert.Equal(0, list["total"]!.GetValue<int>());
            Assert.Empty(list["data"]!.AsArray());
            Assert.Empty((await sender.Client.CallAsync(P + "list_campaigns", new { status = "creating" })).EnsureOk().Message!["data"]!.AsArray());
            foreach (var method in new[] { "campaign_status", "pause_campaign", "resume_campaign", "cancel_campaign", "campaign_recipients" })
                Assert.Equal(404, (await sender.Client.CallAsync(P + method, new { campaign = code })).Status);
            Assert.Equal(404, (await sender.Client.CallAsync(P + "add_campaign_recipients", new { campaign = code, recipients = new[] { "255799000001" } })).Status);
            Assert.False(create.IsCompleted, "the create answered before its last chunk was stored");
            using var sent = read.CreateCommand();
            sent.CommandText = "SELECT count(*) FROM \"Messages\" WHERE \"CampaignId\" = $id";
            sent.Parameters.AddWithValue("$id", id);
            Assert.Equal(0L, (long)sent.ExecuteScalar()!);
            await hold.RollbackAsync(TestContext.Current.CancellationToken);
        }

        var created = (await create).EnsureOk().Message!;
        Assert.Equal(code, created["campaign"]!.GetValue<string>());
        Assert.Equal("running", created["status"]!.GetValue<string>());
        Assert.Equal(50_000, created["total"]!.GetValue<int>());
        var status = (await sender.Client.CallAsync(P + "campaign_status", new { campaign = code })).EnsureOk().Message!;
        Assert.Equal(50_000, status["total"]!.GetValue<int>());
        Assert.Equal(1, (await sender.Client.CallAsync(P + "list_campaigns")).EnsureOk().Message!["total"]!.GetValue<int>());
        (await sender.Client.CallAsync(P + "cancel_campaign", new { campaign = code })).EnsureOk();
    }

    [Fact]
    public async Task A_create_abandoned_by_its_caller_part_way_leaves_nothing_behind()
    {
        var sender = await app.CreateConnectedAsync();
        using var abandon = new CancellationTokenSource();
        (await sender.Client.CallAsync(P + "list_campaigns")).EnsureOk();
        var create = CreateAsync();
        async Task<ApiAnswer> CreateAsync()
        {
            var response = await sender.Client.PostAsJsonAsync("/api/method/" + P + "create_and_start_campaign",
                new { instance_id = sender.InstanceId, message = "hi", recipients = Numbers(30_000, 14) }, abandon.Token);
            return new ApiAnswer((int)response.StatusCode, null, response);
        }
        var (id, _) = await WaitForRecipientsAsync(app.DataDir, sender, create);

        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        await using (var holder = await factory.CreateDbContextAsync(TestContext.Current.CancellationToken))
        await using (var hold = await holder.Database.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await abandon.CancelAsync();
            // Given up while its next chunk waits for the writer; the writer is let go before the caller's end is awaited.
            await Task.Delay(200, TestContext.Current.CancellationToken);
            await hold.RollbackAsync(TestContext.Current.CancellationToken);
        }
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => create);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        await using var read = Open(app.DataDir, readOnly: true);
        while (CampaignRow(read, id) is var (state, stored) && state != "(gone)")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the abandoned campaign is still there: {state}, {stored} recipients");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        using var orphans = read.CreateCommand();
        orphans.CommandText = "SELECT count(*) FROM \"CampaignRecipients\" WHERE \"CampaignId\" = $id";
        orphans.Parameters.AddWithValue("$id", id);
        Assert.Equal(0L, (long)orphans.ExecuteScalar()!);
    }

    [Fact]
    public async Task Another_customers_sends_get_in_while_a_big_campaign_is_stored()
    {
        var big = await app.CreateConnectedAsync();
        var other = await app.CreateConnectedAsync();
        var create = big.Client.CallAsync(P + "create_and_start_campaign", new
        {
            instance_id = big.InstanceId, message = "hi", recipients = Numbers(100_000, 12), scheduled_at = DateTimeOffset.UtcNow.AddHours(1).ToString("O"),
        });
        var (id, _) = await WaitForRecipientsAsync(app.DataDir, big, create);

        var send = Stopwatch.StartNew();
        var answer = (await other.Client.CallAsync("wap_bridge.api.whatsapp.send_api_message", new
        {
            instance_id = other.InstanceId, to_number = "255788000001", message = "not stuck behind someone else's campaign", wait = 0,
        })).EnsureOk().Message!;
        send.Stop();
        // Read after the send answered: if the create were still holding the writer, nothing of it would be visible
        // yet; seen part-way, the send was stored between two of its chunks.
        await using (var read = Open(app.DataDir, readOnly: true))
        {
            var (state, stored) = CampaignRow(read, id);
            Assert.True(state == CampaignState.Creating.ToWire() && stored < 100_000,
                $"the send answered only after the create had stored everything ({state}, {stored:N0} rows; send took {send.ElapsedMilliseconds} ms)");
        }
        Assert.Equal("queued", answer["status"]!.GetValue<string>());
        Assert.Equal(100_000, (await create).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_campaign_left_half_created_by_a_dead_process_is_deleted_at_start_up()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        SendingCustomer sender;
        long halfCreated;
        await using (var first = new ChunkedCampaignAppOn(dataDir) { KeepDataDir = true })
        {
            await first.InitializeAsync();
            sender = await first.CreateConnectedAsync();
            // What a process killed between two chunks leaves behind: the hidden row, some recipients, a live creation lease.
            halfCreated = await InsertHalfCreatedAsync(first, sender, DateTimeOffset.UtcNow.AddMinutes(10));
        }

        await using var second = new ChunkedCampaignAppOn(dataDir);
        await second.InitializeAsync();
        await using var db = await second.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        Assert.False(await db.Campaigns.AnyAsync(c => c.Id == halfCreated, TestContext.Current.CancellationToken));
        Assert.False(await db.CampaignRecipients.AnyAsync(r => r.CampaignId == halfCreated, TestContext.Current.CancellationToken));
        using var client = second.CreateApiClient(sender.Customer.TokenHeader);
        Assert.Equal(0, (await client.CallAsync(P + "list_campaigns")).EnsureOk().Message!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_half_created_campaign_whose_creation_lease_ran_out_is_deleted_by_the_sweep()
    {
        var sender = await app.CreateConnectedAsync();
        var abandoned = await InsertHalfCreatedAsync(app, sender, DateTimeOffset.UtcNow.AddSeconds(-1));
        var alive = await InsertHalfCreatedAsync(app, sender, DateTimeOffset.UtcNow.AddMinutes(10));
        var factory = app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            await using var db = await factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
            if (!await db.Campaigns.AnyAsync(c => c.Id == abandoned, TestContext.Current.CancellationToken))
            {
                Assert.False(await db.CampaignRecipients.AnyAsync(r => r.CampaignId == abandoned, TestContext.Current.CancellationToken));
                Assert.True(await db.Campaigns.AnyAsync(c => c.Id == alive, TestContext.Current.CancellationToken), "a campaign still being created was deleted");
                Assert.Equal(3, await db.CampaignRecipients.CountAsync(r => r.CampaignId == alive, TestContext.Current.CancellationToken));
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "the sweep never deleted the abandoned campaign");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static async Task<long> InsertHalfCreatedAsync(WapBridgeApp app, SendingCustomer sender, DateTimeOffset leaseUntil)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var customerId = await db.Customers.Where(c => c.Code == sender.Customer.Code).Select(c => c.Id).SingleAsync();
        var instanceId = await db.Instances.Where(i => i.Code == sender.InstanceId).Select(i => i.Id).SingleAsync();
        var campaign = new Campaign
        {
            Code = "WAP-CAM-" + Random.Shared.Next(100_000, 999_999),
            CustomerId = customerId,
            InstanceId = instanceId,
            Name = "half",
            MessageText = "hi",
            State = CampaignState.Creating,
            CreatedAt = DateTimeOffset.UtcNow,
            RunnerLeaseUntil = leaseUntil,
        };
        db.Campaigns.Add(campaign);
        await db.SaveChangesAsync();
        db.CampaignRecipients.AddRange(Numbers(3, 13).Select(n => new CampaignRecipient { CampaignId = campaign.Id, RawInput = n, Number = n, UpdatedAt = DateTimeOffset.UtcNow }));
        await db.SaveChangesAsync();
        return campaign.Id;
    }

    /// <summary>
    /// The customer's campaign once some of its recipients are stored, seen from outside through the database file. Polled
    /// on a thread of its own: a loaded run starves the thread pool, and a poll waiting for it can miss the whole create.
    /// </summary>
    private static Task<(long Id, string Code)> WaitForRecipientsAsync(string dataDir, SendingCustomer customer, Task<ApiAnswer> create) =>
        Task.Factory.StartNew(() =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            using var read = Open(dataDir, readOnly: true);
            using var command = read.CreateCommand();
            command.CommandText = "SELECT c.\"Id\", c.\"Code\" FROM \"Campaigns\" c JOIN \"Customers\" cu ON cu.\"Id\" = c.\"CustomerId\" " +
                "WHERE cu.\"Code\" = $customer AND EXISTS (SELECT 1 FROM \"CampaignRecipients\" r WHERE r.\"CampaignId\" = c.\"Id\")";
            command.Parameters.AddWithValue("$customer", customer.Customer.Code);
            while (true)
            {
                using (var reader = command.ExecuteReader())
                {
                    if (reader.Read() && !create.IsCompleted)
                        return (reader.GetInt64(0), reader.GetString(1));
                }
                if (create.IsCompleted)
                    Assert.Fail($"the create answered ({create.Result.Status}) before any of its recipients were seen stored");
                Assert.True(DateTime.UtcNow < deadline, "no recipients were stored within 60 s");
                Thread.Sleep(2);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static (string State, long Stored) CampaignRow(SqliteConnection connection, long id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT c.\"State\", (SELECT count(*) FROM \"CampaignRecipients\" r WHERE r.\"CampaignId\" = c.\"Id\") FROM \"Campaigns\" c WHERE c.\"Id\" = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetInt64(1)) : ("(gone)", 0);
    }

    private static SqliteConnection Open(string dataDir, bool readOnly)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDir, "wapbridge.db"),
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        return connection;
    }
}

/// <summary>The same settings on a data folder of the test's choosing, for restarts.</summary>
public sealed class ChunkedCampaignAppOn(string dataDir) : WapBridgeApp("sqlite", FastMessaging.Settings(new Dictionary<string, string?>
{
    ["WapBridge:Campaigns:SweepInterval"] = "00:00:01",
    ["WapBridge:Campaigns:InsertChunkSize"] = "1000",
}), dataDir: dataDir);
