using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Common;
using WapBridge.Core.Health;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Telemetry;

namespace WapBridge.Core.Campaigns;

public static class CampaignsServiceCollectionExtensions
{
    /// <summary>Campaigns, their runner and recovery. The host provides <see cref="ICampaignScheduler"/> (the job queue runners run on).</summary>
    public static IServiceCollection AddCampaigns(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<CampaignOptions>(configuration.GetSection(CampaignOptions.Section), Problems);
        services.AddGatewayMetrics();
        services.AddSingleton<CampaignTemplateCheck>();
        services.AddSingleton<CampaignService>();
        services.AddTransient<CampaignRunner>();
        services.AddSingleton<CampaignNumberCheck>();
        services.AddHostedService<CampaignRecovery>();
        services.AddSingleton<CampaignEventObserver>();
        services.AddSingleton<IInstanceEventObserver>(sp => sp.GetRequiredService<CampaignEventObserver>());
        services.AddSingleton<IHealthLevelObserver, CampaignHealthGuard>();
        services.AddSingleton<CampaignRecipientSync>();
        services.AddSingleton<IReceiptListener>(sp => sp.GetRequiredService<CampaignRecipientSync>());
        return services;
    }

    private static string Setting(string key) => ValidatedOptions.Setting(CampaignOptions.Section, key);

    private static IEnumerable<string> Problems(CampaignOptions o)
    {
        if (o.MinDelaySeconds < 0 || !double.IsFinite(o.MinDelaySeconds))
            yield return $"{Setting(nameof(o.MinDelaySeconds))} is {o.MinDelaySeconds}; it must be 0 or more seconds.";
        if (o.MaxDelaySeconds < o.MinDelaySeconds || !double.IsFinite(o.MaxDelaySeconds))
            yield return $"{Setting(nameof(o.MaxDelaySeconds))} is {o.MaxDelaySeconds}; it must be at least {Setting(nameof(o.MinDelaySeconds))} ({o.MinDelaySeconds}).";
        if (o.HourlyLimit is < 1)
            yield return $"{Setting(nameof(o.HourlyLimit))} is {o.HourlyLimit}; it must be 1 or more, or be unset for no limit.";
        if (o.DailyLimit is < 1)
            yield return $"{Setting(nameof(o.DailyLimit))} is {o.DailyLimit}; it must be 1 or more, or be unset for no limit.";
        if (o.MaxRecipientsPerRequest < 1)
            yield return $"{Setting(nameof(o.MaxRecipientsPerRequest))} is {o.MaxRecipientsPerRequest}; it must be 1 or more.";
        if (o.InsertChunkSize < 1)
            yield return $"{Setting(nameof(o.InsertChunkSize))} is {o.InsertChunkSize}; it must be 1 or more, e.g. 5000.";
        foreach (var (name, value) in new[]
                 {
                     (nameof(o.CreationLease), o.CreationLease), (nameof(o.RunnerSlice), o.RunnerSlice),
                     (nameof(o.SendWait), o.SendWait), (nameof(o.SweepInterval), o.SweepInterval),
                 })
            if (value <= TimeSpan.Zero)
                yield return $"{Setting(name)} is {value}; it must be longer than zero, e.g. 00:02:00.";
        if (o.LongestInJobWait < TimeSpan.Zero)
            yield return $"{Setting(nameof(o.LongestInJobWait))} is {o.LongestInJobWait}; it must be zero or more, e.g. 00:00:05.";
        if (o.ProgressEvery < TimeSpan.Zero)
            yield return $"{Setting(nameof(o.ProgressEvery))} is {o.ProgressEvery}; it must be zero or more, e.g. 00:00:10.";
        if (o.NumberCheckBatchSize is < 1 or > CampaignOptions.MaxNumberCheckBatchSize)
            yield return $"{Setting(nameof(o.NumberCheckBatchSize))} is {o.NumberCheckBatchSize}; it must be 1 to {CampaignOptions.MaxNumberCheckBatchSize}, e.g. 20.";
        if (o.NumberCheckPause < TimeSpan.Zero)
            yield return $"{Setting(nameof(o.NumberCheckPause))} is {o.NumberCheckPause}; it must be zero or more, e.g. 00:00:05.";
    }
}
