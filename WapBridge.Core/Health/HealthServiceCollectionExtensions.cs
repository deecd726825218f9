using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Common;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Health;

public static class HealthServiceCollectionExtensions
{
    /// <summary>Account health (contract §12): known contacts, the new-contact budget, health scores.</summary>
    public static IServiceCollection AddHealth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<HealthOptions>(configuration.GetSection(HealthOptions.Section), Problems);
        services.AddSingleton<NewContactBudget>();
        services.AddSingleton<HealthSignalReader>();
        services.AddSingleton<HealthService>();
        services.AddSingleton<HealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthMonitor>());
        services.AddSingleton<IInstanceEventObserver, HealthEventObserver>();
        services.AddSingleton<KnownContactRecorder>();
        services.AddSingleton<IInstanceEventObserver>(sp => sp.GetRequiredService<KnownContactRecorder>());
        services.AddSingleton<Messaging.IInboundMessageObserver>(sp => sp.GetRequiredService<KnownContactRecorder>());
        services.AddSingleton<ProtectionOverride>();
        services.AddSingleton<InstanceHealthDashboard>();
        return services;
    }

    private static string Setting(string key) => ValidatedOptions.Setting(HealthOptions.Section, key);

    private static IEnumerable<string> Problems(HealthOptions o)
    {
        if (o.EffectiveWarmUp.Any(n => n < 0))
            yield return $"{Setting(nameof(o.WarmUp))} has a negative day; each day's allowance must be 0 or more.";
        if (o.WarmedUpDailyNewContacts < 0)
            yield return $"{Setting(nameof(o.WarmedUpDailyNewContacts))} is {o.WarmedUpDailyNewContacts}; it must be 0 or more.";
        if (o.EvaluateInterval <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.EvaluateInterval))} is {o.EvaluateInterval}; it must be longer than zero (for example 00:01:00).";
        if (o.SignalWindow <= TimeSpan.Zero)
            yield return $"{Setting(nameof(o.SignalWindow))} is {o.SignalWindow}; it must be longer than zero (for example 7.00:00:00).";
    }
}
