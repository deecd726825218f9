using Microsoft.Extensions.DependencyInjection;

namespace WapBridge.Core.Overview;

public static class OverviewServiceCollectionExtensions
{
    /// <summary>The dashboard's Overview reads: a customer's figures, and the cluster's for Admins.</summary>
    public static IServiceCollection AddOverview(this IServiceCollection services)
    {
        services.AddSingleton<OverviewService>();
        services.AddSingleton<ClusterOverview>();
        return services;
    }
}
