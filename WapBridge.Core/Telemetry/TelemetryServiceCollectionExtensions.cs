using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace WapBridge.Core.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// WapBridge's own instruments (issue 21). With <see cref="TelemetryOptions.Metrics"/> off none is created and the
    /// database gauges are never read: that is the "metrics off" of the overhead bench.
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!options.Metrics)
            return services;
        services.AddSingleton<DatabaseGauges>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseGauges>());
        return services;
    }
}
