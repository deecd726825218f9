using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Accounts;
using WapBridge.Core.Contacts;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Tests.Health;

/// <summary>The warm-up schedule's days and midnights, pure, in the zones users are in (one with DST).</summary>
public sealed class WarmUpScheduleTests
{
    private static readonly TimeZoneInfo Dar = TimeZoneInfo.FindSystemTimeZoneById("Africa/Dar_es_Salaam");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    [Fact]
    public void Warm_up_days_are_local_days_from_the_pairing_day_then_the_warmed_up_allowance()
    {
        var options = new HealthOptions();
        // 22:30 UTC on 1 December is already 2 December in Dar es Salaam: that is day 1 there.
        var paired = new DateTimeOffset(2026, 12, 1, 22, 30, 0, TimeSpan.Zero);
        Assert.Equal((10, 1), WarmUpSchedule.AllowanceOn(paired, new DateOnly(2026, 12, 2), Dar, options));
        Assert.Equal((15, 3), WarmUpSchedule.AllowanceOn(paired, new DateOnly(2026, 12, 4), Dar, options));
        Assert.Equal((100, 14), WarmUpSchedule.AllowanceOn(paired, new DateOnly(2026, 12, 15), Dar, options));
        Assert.Equal((250, null), WarmUpSchedule.AllowanceOn(paired, new DateOnly(2026, 12, 16), Dar, options));
        // In UTC the same pairing is day 1 on 1 December, so every day comes one day earlier.
        Assert.Equal((10, 2), WarmUpSchedule.AllowanceOn(paired, new DateOnly(2026, 12, 2), TimeZoneInfo.Utc, options));
        Assert.Equal((250, null), WarmUpSchedule.AllowanceOn(paired, new DateOnly(2026, 12, 15), TimeZoneInfo.Utc, options));
        // Paired before budgets existed: warmed up from the start.
        Assert.Equal((250, null), WarmUpSchedule.AllowanceOn(null, new DateOnly(2026, 12, 2), Dar, options));
        // A configured schedule replaces the default one.
        Assert.Equal((7, null), WarmUpSchedule.AllowanceOn(paired, new DateOnly(2026, 12, 4), Dar, new HealthOptions { WarmUp = [1, 2], WarmedUpDailyNewContacts = 7 }));
    }

    [Fact]
    public void Days_start_at_local_midnight_as_UTC_instants_and_a_DST_change_day_is_23_or_25_hours()
    {
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 21, 0, 0, TimeSpan.Zero), WarmUpSchedule.StartOf(new DateOnly(2026, 12, 2), Dar));
        Assert.Equal(TimeSpan.Zero, WarmUpSchedule.StartOf(new DateOnly(2026, 12, 2), Dar).Offset);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 21, 0, 0, TimeSpan.Zero), WarmUpSchedule.NextReset(new DateTimeOffset(2026, 12, 1, 20, 59, 59, TimeSpan.Zero), Dar));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 21, 0, 0, TimeSpan.Zero), WarmUpSchedule.NextReset(new DateTimeOffset(2026, 12, 1, 21, 0, 0, TimeSpan.Zero), Dar));

        // New York springs forward on 8 March 2026 (midnight is EST, the next one EDT) and falls back on 1 November.
        var march8 = WarmUpSchedule.StartOf(new DateOnly(2026, 3, 8), NewYork);
        var march9 = WarmUpSchedule.StartOf(new DateOnly(2026, 3, 9), NewYork);
        Assert.Equal((new DateTimeOffset(2026, 3, 8, 5, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 9, 4, 0, 0, TimeSpan.Zero)), (march8, march9));
        Assert.Equal(TimeSpan.FromHours(23), march9 - march8);
        Assert.Equal(march9, WarmUpSchedule.NextReset(new DateTimeOffset(2026, 3, 8, 12, 0, 0, TimeSpan.Zero), NewYork));
        Assert.Equal(TimeSpan.FromHours(25), WarmUpSchedule.StartOf(new DateOnly(2026, 11, 2), NewYork) - WarmUpSchedule.StartOf(new DateOnly(2026, 11, 1), NewYork));
    }
}

/// <summary>
/// <see cref="NewContactBudget"/> on a real SQLite file and a fake clock: the day's allowance of first messages over a
/// warm-up of several days, reset exactly at the instance's local midnight, and only new contacts counted.
/// </summary>
public sealed class NewContactBudgetTests : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services;
    private readonly IDbContextFactory<WapBridgeDbContext> _dbFactory;
    private FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 7, 0, 0, TimeSpan.Zero));

    public NewContactBudgetTests()
    {
        _services = new ServiceCollection().AddLogging().AddWapBridgeDatabase(new DatabaseOptions(), _dir).AddDataProtection().Services.BuildServiceProvider();
        _dbFactory = _services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>();
    }

    private bool _migrated;

    private NewContactBudget Budget(HealthOptions? options = null) => new(_dbFactory, Options.Create(options ?? new HealthOptions()), _time);

    private async Task<int> InstanceAsync(string? timeZone, DateTimeOffset? warmUpStartedAt, string? phone = "255700000001")
    {
        if (!_migrated)
            await DatabaseMigrator.MigrateAsync(_dbFactory, NullLogger.Instance, Ct);
        _migrated = true;
        await using var db = await _dbFactory.CreateDbContextAsync(Ct);
        var now = _time.GetUtcNow();
        var customer = new Customer { Code = "CUST-" + Guid.NewGuid().ToString("N")[..6], Name = "Budget", Email = $"{Guid.NewGuid():N}@example.com", CreatedAt = now };
        db.Customers.Add(customer);
        await db.SaveChangesAsync(Ct);
        var instance = new Instance
        {
            Code = $"INST-01-{Random.Shared.Next(1, 9_999_999):D7}", CustomerId = customer.Id, Name = "main", Engine = "simulator", NodeId = "01",
            State = InstanceState.Connected, PhoneNumber = phone, TimeZone = timeZone, WarmUpStartedAt = warmUpStartedAt, CreatedAt = now, StateChangedAt = now,
        };
        db.Instances.Add(instance);
        await db.SaveChangesAsync(Ct);
        return instance.Id;
    }

    private static string Number(int n) => $"2557551{n:D5}";

    [Fact]
    public async Task Warm_up_grows_the_allowance_day_by_day_and_a_warmed_up_number_gets_250()
    {
        var budget = Budget();
        var warming = await InstanceAsync("Africa/Dar_es_Salaam", _time.GetUtcNow());
        var warmedUp = await InstanceAsync("Africa/Dar_es_Salaam", null);
        var seen = new List<(int, int?)>();
        for (var day = 1; day <= 16; day++)
        {
            var status = await budget.StatusAsync(warming, Ct);
            seen.Add((status.Allowance, status.WarmUpDay));
            Assert.Equal((250, 0, (int?)null), ((await budget.StatusAsync(warmedUp, Ct)).Allowance, (await budget.StatusAsync(warmedUp, Ct)).UsedToday,
                (await budget.StatusAsync(warmedUp, Ct)).WarmUpDay));
            _time.Advance(TimeSpan.FromDays(1));
        }
        var expected = HealthOptions.DefaultWarmUp.Select((n, i) => (n, (int?)(i + 1))).Concat([(250, null), (250, null)]).ToList();
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task A_spent_budget_holds_new_contacts_until_local_midnight_in_the_instances_zone_and_not_a_second_earlier()
    {
        var budget = Budget(new HealthOptions { WarmUp = [2, 3] });
        // 10:00 in Dar es Salaam (UTC+3) and in UTC on 1 December.
        var dar = await InstanceAsync("Africa/Dar_es_Salaam", _time.GetUtcNow());
        var utc = await InstanceAsync("UTC", _time.GetUtcNow());
        foreach (var instance in new[] { dar, utc })
        {
            Assert.Equal(new NewContactClaim(true, false, null), await budget.ClaimAsync(instance, Number(1), Ct));
            Assert.Equal(new NewContactClaim(true, false, null), await budget.ClaimAsync(instance, Number(2), Ct));
        }
        var darMidnight = new DateTimeOffset(2026, 12, 1, 21, 0, 0, TimeSpan.Zero);
        var utcMidnight = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(new NewContactClaim(false, false, darMidnight), await budget.ClaimAsync(dar, Number(3), Ct));
        Assert.Equal(new NewContactClaim(false, false, utcMidnight), await budget.ClaimAsync(utc, Number(3), Ct));
        Assert.Equal(new NewContactBudgetStatus(2, 2, darMidnight, 1), await budget.StatusAsync(dar, Ct));

        _time.SetUtcNow(darMidnight - TimeSpan.FromSeconds(1));
        Assert.False((await budget.ClaimAsync(dar, Number(3), Ct)).Allowed);

        _time.SetUtcNow(darMidnight);
        Assert.Equal(new NewContactClaim(true, false, null), await budget.ClaimAsync(dar, Number(3), Ct));
        Assert.Equal(new NewContactBudgetStatus(3, 1, darMidnight.AddDays(1), 2), await budget.StatusAsync(dar, Ct));
        // Still 1 December in UTC: the UTC instance's day is spent until its own midnight.
        Assert.Equal(new NewContactClaim(false, false, utcMidnight), await budget.ClaimAsync(utc, Number(3), Ct));
        _time.SetUtcNow(utcMidnight);
        Assert.True((await budget.ClaimAsync(utc, Number(3), Ct)).Allowed);
    }

    [Fact]
    public async Task On_a_DST_change_day_the_budget_counts_from_local_midnight_and_resets_at_the_next_one()
    {
        // 7 March 23:59 EST is 04:59 UTC on the 8th: that first message belongs to 7 March, not to the change day.
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 8, 4, 59, 0, TimeSpan.Zero));
        var budget = Budget(new HealthOptions { WarmedUpDailyNewContacts = 2 });
        var instance = await InstanceAsync("America/New_York", null);
        Assert.True((await budget.ClaimAsync(instance, Number(1), Ct)).Allowed);

        _time.SetUtcNow(new DateTimeOffset(2026, 3, 8, 5, 30, 0, TimeSpan.Zero));
        var reset = new DateTimeOffset(2026, 3, 9, 4, 0, 0, TimeSpan.Zero);
        Assert.Equal(new NewContactBudgetStatus(2, 0, reset, null), await budget.StatusAsync(instance, Ct));
        Assert.True((await budget.ClaimAsync(instance, Number(2), Ct)).Allowed);
        Assert.True((await budget.ClaimAsync(instance, Number(3), Ct)).Allowed);
        Assert.Equal(new NewContactClaim(false, false, reset), await budget.ClaimAsync(instance, Number(4), Ct));

        // The day had 23 hours: midnight EDT is 04:00 UTC.
        _time.SetUtcNow(reset - TimeSpan.FromTicks(1));
        Assert.False((await budget.ClaimAsync(instance, Number(4), Ct)).Allowed);
        _time.SetUtcNow(reset);
        Assert.True((await budget.ClaimAsync(instance, Number(4), Ct)).Allowed);
    }

    [Fact]
    public async Task Only_new_contacts_count_known_ones_by_number_or_through_their_LID_pass_uncounted()
    {
        var budget = Budget(new HealthOptions { WarmUp = [1] });
        var instance = await InstanceAsync("Africa/Dar_es_Salaam", _time.GetUtcNow());
        await budget.RememberAsync(instance, [new KnownContactAddress(Number(10), null), new KnownContactAddress(null, "120542636048510")], KnownContactSources.Synced, Ct);
        await using (var db = await _dbFactory.CreateDbContextAsync(Ct))
        {
            db.LidMappings.Add(new LidMapping { InstanceId = instance, Lid = "120542636048510", PhoneNumber = Number(11), LearnedAt = _time.GetUtcNow() });
            await db.SaveChangesAsync(Ct);
        }

        Assert.Equal(new NewContactClaim(true, true, null), await budget.ClaimAsync(instance, Number(10), Ct));
        Assert.Equal(new NewContactClaim(true, true, null), await budget.ClaimAsync(instance, Number(11), Ct));
        Assert.Equal(0, (await budget.StatusAsync(instance, Ct)).UsedToday);

        Assert.Equal(new NewContactClaim(true, false, null), await budget.ClaimAsync(instance, Number(12), Ct));
        // Written to once, the contact is known: the next message to it is not a first message.
        Assert.Equal(new NewContactClaim(true, true, null), await budget.ClaimAsync(instance, Number(12), Ct));
        Assert.True(await budget.IsKnownAsync(instance, Number(12), Ct));
        Assert.Equal(1, (await budget.StatusAsync(instance, Ct)).UsedToday);
        Assert.False((await budget.ClaimAsync(instance, Number(13), Ct)).Allowed);
        Assert.False(await budget.IsKnownAsync(instance, Number(13), Ct));

        // Another instance of the same number knows nobody yet.
        var other = await InstanceAsync("Africa/Dar_es_Salaam", _time.GetUtcNow());
        Assert.False(await budget.IsKnownAsync(other, Number(10), Ct));
    }

    [Fact]
    public async Task The_owners_override_lets_new_contacts_through_still_counted_until_it_ends()
    {
        var budget = Budget(new HealthOptions { WarmUp = [1] });
        var instance = await InstanceAsync("UTC", _time.GetUtcNow());
        var until = _time.GetUtcNow().AddHours(2);
        await using (var db = await _dbFactory.CreateDbContextAsync(Ct))
            await db.Instances.Where(i => i.Id == instance).ExecuteUpdateAsync(u => u.SetProperty(i => i.ProtectionOverrideUntil, until), Ct);

        for (var n = 0; n < 3; n++)
            Assert.True((await budget.ClaimAsync(instance, Number(n), Ct)).Allowed);
        var status = await budget.StatusAsync(instance, Ct);
        Assert.Equal((3, 0, until), (status.UsedToday, status.LeftToday, status.OverriddenUntil));

        _time.SetUtcNow(until);
        Assert.False((await budget.ClaimAsync(instance, Number(9), Ct)).Allowed);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
