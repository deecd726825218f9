using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WapBridge.Core.Engines.Baileys;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Engines.Simulator;

namespace WapBridge.Core.Engines;

public static class EnginesServiceCollectionExtensions
{
    /// <summary>Every engine: the simulator first, then Baileys (its session files under <paramref name="dataDir"/> unless set), then the Cloud API.</summary>
    public static IServiceCollection AddEngines(this IServiceCollection services, IConfiguration configuration, string dataDir)
    {
        services.AddSimulatorEngine(configuration);
        services.Configure<BaileysOptions>(configuration.GetSection(BaileysOptions.Section));
        services.PostConfigure<BaileysOptions>(o => o.DataDirectory ??= dataDir);
        services.AddBaileysEngine();
        services.AddCloudApi(configuration);
        return services;
    }

    /// <summary>The simulator alone (with the engine registry), for hosts that never talk to WhatsApp.</summary>
    public static IServiceCollection AddSimulatorEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<SimulatorOptions>(configuration.GetSection(SimulatorOptions.Section));
        services.AddSingleton<SimulatorNetwork>();
        services.AddSingleton<IWhatsAppEngine, SimulatorEngine>();
        services.TryAddSingleton<EngineRegistry>();
        return services;
    }
}
