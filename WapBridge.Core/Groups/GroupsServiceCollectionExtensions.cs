using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Instances;

namespace WapBridge.Core.Groups;

public static class GroupsServiceCollectionExtensions
{
    /// <summary>Groups: the API's directory over the instance actors and the cache the dashboard reads, kept up to date from group events.</summary>
    public static IServiceCollection AddGroups(this IServiceCollection services)
    {
        services.AddSingleton<GroupCache>();
        services.AddSingleton<GroupDirectory>();
        services.AddSingleton<IInstanceEventObserver, GroupEventObserver>();
        return services;
    }
}
