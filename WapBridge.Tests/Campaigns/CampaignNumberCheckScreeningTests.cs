using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Contacts;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Campaigns;

/// <summary>
/// <see cref="CampaignNumberCheck"/> on a fake clock, against a stand-in for the instance actor that answers, fails or
/// reports the instance gone as the test says: what the simulator cannot be made to do on cue.
/// </summary>
public sealed class CampaignNumberCheckScreeningTests(SqliteCampaignApp app) : IClassFixture<SqliteCampaignApp>
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private readonly List<IReadOnlyList<string>> asked = [];
    private Func<IReadOnlyList<string>, IReadOnlyList<NumberCheckResult?>> whatsApp = numbers =>
        numbers.Select(n => (NumberCheckResult?)new NumberCheckResult(!n.EndsWith("9999", StringComparison.Ordinal), n + "@s.whatsapp.net")).ToList();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CampaignNumberCheck Check() => new(app.Services.GetRequiredService<NumberCheckCache>(), FakeGrains.Answering(numbers =>
        {
            asked.Add(numbers);
            return whatsApp(numbers);
        }), app.Services.GetRequiredService<GatewayMetrics>(), Options.Create(new CampaignOptions { NumberCheckBatchSize = 3, NumberCheckPause = Pause }), clock, NullLogger<CampaignNumberCheck>.Instance);

    /// <summary>A campaign that checks numbers first, scheduled an hour on so the real runner leaves it to the test.</summary>
    private async Task<(Campaign Campaign, Instance Instance)> CampaignAsync(params string[] numbers)
    {
        var sender = await app.CreateConnectedAsync();
        var code = (await sender.Client.CallAsync("wap_bridge.api.campaigns.create_and_start_campaign", new
        {
            instance_id = sender.InstanceId, message = "Hello", recipients = numbers, check_numbers_first = true,
            scheduled_at = DateTimeOffset.UtcNow.AddHours(1).ToString("O"),
        })).EnsureOk().Message!["campaign"]!.GetValue<string>();
        await using var db = await DbAsync();
        var campaign = await db.Campaigns.AsNoTracking().SingleAsync(c => c.Code == code, Ct);
        return (campaign, await db.Instances.AsNoTracking().SingleAsync(i => i.Id == campaign.InstanceId, Ct));
    }

    private Task<WapBridgeDbContext> DbAsync() => app.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync(Ct);

    private async Task<NumberScreening> ScreenAsync(CampaignNumberCheck check, Campaign campaign, Instance instance)
    {
        await using var db = await DbAsync();
        return await check.ScreenAsync(db, campaign, instance, Ct);
    }

    private async Task<Campaign> ReadAsync(long id)
    {
        await using var db = await DbAsync();
        return await db.Campaigns.AsNoTracking().SingleAsync(c => c.Id == id, Ct);
    }

    /// <summary>What the runner does with sendable recipients, as far as the next screening can tell: they are no longer pending.</summary>
    private async Task SendAsync(long campaignId, IEnumerable<CampaignRecipient> recipients)
    {
        var ids = recipients.Select(r => r.Id).ToList();
        await using var db = await DbAsync();
        await db.CampaignRecipients.Where(r => ids.Contains(r.Id)).ExecuteUpdateAsync(s => s.SetProperty(r => r.State, RecipientState.Sent), Ct);
        await db.Campaigns.Where(c => c.Id == campaignId).ExecuteUpdateAsync(s => s.SetProperty(c => c.Pending, c => c.Pending - ids.Count), Ct);
    }

    [Fact]
    public async Task Batches_are_paced_on_the_clock_and_cached_answers_are_acted_on_without_asking()
    {
        var (campaign, instance) = await CampaignAsync("255757701001", "255757709999", "255757701003", "255757701004", "255757701005");
        var check = Check();

        var first = await ScreenAsync(check, campaign, instance);
        Assert.Equal(["255757701001", "255757709999", "255757701003"], Assert.Single(asked));
        Assert.Equal(1, first.Failed);
        Assert.Equal(["255757701001", "255757701003"], first.Sendable.Select(r => r.Number));
        var counted = await ReadAsync(campaign.Id);
        Assert.Equal((1, 4), (counted.Failed, counted.Pending));

        // Still pending and known: screened again from the cache, nobody asked.
        var again = await ScreenAsync(check, campaign, instance);
        Assert.Equal(["255757701001", "255757701003"], again.Sendable.Select(r => r.Number));
        Assert.Single(asked);

        // Sent; the rest are unknown and the pause is not over: come back when it is.
        await SendAsync(campaign.Id, first.Sendable);
        var early = await ScreenAsync(check, campaign, instance);
        Assert.Empty(early.Sendable);
        Assert.Null(early.WaitReason);
        Assert.Equal(clock.GetUtcNow() + Pause, early.ComeBackAt);
        Assert.Single(asked);

        clock.Advance(Pause);
        var next = await ScreenAsync(check, campaign, instance);
        Assert.Equal(2, asked.Count);
        Assert.Equal(["255757701004", "255757701005"], asked[1]);
        Assert.Equal(["255757701004", "255757701005"], next.Sendable.Select(r => r.Number));
    }

    [Fact]
    public async Task A_failed_look_up_fails_nobody_and_is_tried_again_later()
    {
        var (campaign, instance) = await CampaignAsync("255757711001", "255757719999");
        whatsApp = _ => throw new TimeoutException("WhatsApp did not answer the usync query");
        var check = Check();

        var failed = await ScreenAsync(check, campaign, instance);
        Assert.Empty(failed.Sendable);
        Assert.Equal(0, failed.Failed);
        Assert.Contains("WhatsApp did not answer", failed.WaitReason);
        Assert.True(failed.ComeBackAt > clock.GetUtcNow());
        var untouched = await ReadAsync(campaign.Id);
        Assert.Equal((0, 2), (untouched.Failed, untouched.Pending));

        whatsApp = numbers => numbers.Select(n => (NumberCheckResult?)new NumberCheckResult(!n.EndsWith("9999", StringComparison.Ordinal), null)).ToList();
        clock.Advance(failed.ComeBackAt!.Value - clock.GetUtcNow());
        var retried = await ScreenAsync(check, campaign, instance);
        Assert.Equal(["255757711001"], retried.Sendable.Select(r => r.Number));
        Assert.Equal(1, retried.Failed);
    }

    [Fact]
    public async Task An_instance_gone_waits_and_an_engine_that_cannot_tell_sends_as_usual()
    {
        var (campaign, instance) = await CampaignAsync("255757721001", "255757729999");
        whatsApp = _ => throw new WapBridgeException(ErrorKind.Conflict, "not_connected", "The session is not connected.", "instance_id");
        var check = Check();

        var gone = await ScreenAsync(check, campaign, instance);
        Assert.Empty(gone.Sendable);
        Assert.StartsWith("instance not connected", gone.WaitReason, StringComparison.Ordinal);

        // An engine without look-ups: nobody is held back (its sends find out).
        clock.Advance(TimeSpan.FromMinutes(1));
        whatsApp = _ => throw EngineErrors.FeatureUnavailable("number checks", "instance_id");
        var unknown = await ScreenAsync(check, campaign, instance);
        Assert.Equal(2, unknown.Sendable.Count);
        Assert.Equal(0, unknown.Failed);

        // One that answers "cannot tell" for each number: the same.
        clock.Advance(Pause);
        whatsApp = numbers => [.. numbers.Select(_ => (NumberCheckResult?)null)];
        var cannotTell = await ScreenAsync(check, campaign, instance);
        Assert.Equal(2, cannotTell.Sendable.Count);
        Assert.Equal((0, 2), ((await ReadAsync(campaign.Id)).Failed, (await ReadAsync(campaign.Id)).Pending));
    }
}

/// <summary>An <see cref="IGrainFactory"/> whose instance actors answer number checks with a function and know nothing else.</summary>
public class FakeGrains : DispatchProxy
{
    private Func<IReadOnlyList<string>, IReadOnlyList<NumberCheckResult?>> _answer = default!;

    public static IGrainFactory Answering(Func<IReadOnlyList<string>, IReadOnlyList<NumberCheckResult?>> answer)
    {
        var factory = Create<IGrainFactory, FakeGrains>();
        ((FakeGrains)(object)factory)._answer = answer;
        return factory;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
    {
        nameof(IGrainFactory.GetGrain) when targetMethod.IsGenericMethod && targetMethod.GetGenericArguments()[0] == typeof(IInstanceGrain) => FakeInstance.For(_answer),
        _ => throw new NotSupportedException(targetMethod?.Name),
    };
}

public class FakeInstance : DispatchProxy
{
    private Func<IReadOnlyList<string>, IReadOnlyList<NumberCheckResult?>> _answer = default!;

    public static IInstanceGrain For(Func<IReadOnlyList<string>, IReadOnlyList<NumberCheckResult?>> answer)
    {
        var grain = Create<IInstanceGrain, FakeInstance>();
        ((FakeInstance)(object)grain)._answer = answer;
        return grain;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod?.Name != nameof(IInstanceGrain.CheckNumbersAsync))
            throw new NotSupportedException(targetMethod?.Name);
        try
        {
            return Task.FromResult(_answer((IReadOnlyList<string>)args![0]!));
        }
        catch (Exception e)
        {
            return Task.FromException<IReadOnlyList<NumberCheckResult?>>(e);
        }
    }
}
