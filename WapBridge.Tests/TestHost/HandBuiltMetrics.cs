using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WapBridge.Core.Persistence;
using WapBridge.Core.Telemetry;

namespace WapBridge.Tests.TestHost;

/// <summary>The <see cref="GatewayMetrics"/> a component built by hand in a test records to, on its own meter factory.</summary>
public static class HandBuiltMetrics
{
    public static GatewayMetrics For(IDbContextFactory<WapBridgeDbContext> dbFactory) =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), new GatewayLabels(dbFactory),
            NullLogger<GatewayMetrics>.Instance);
}
