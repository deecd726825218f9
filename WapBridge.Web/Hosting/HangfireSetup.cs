using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Dashboard;
using Hangfire.Logging;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;
using WapBridge.Core.Accounts;
using WapBridge.Core.Idempotency;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Web.Hosting;

/// <summary>Section <c>WapBridge:Hangfire</c>.</summary>
public sealed class HangfireOptions
{
    public const string Section = "WapBridge:Hangfire";

    /// <summary>Run the Hangfire server in this process (campaign runs, schedules, maintenance).</summary>
    public bool ServerEnabled { get; set; } = true;

    /// <summary>Kept small: SQLite job storage is unreliable with many workers; campaign runners are leased, so a duplicate run is harmless.</summary>
    public int WorkerCount { get; set; } = 2;

    /// <summary>How often idle workers poll the queue; SQLite storage is slow with its 15 s default.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often scheduled jobs are checked for being due: campaign spacing relies on it (Hangfire's default is 15 s).</summary>
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public static class HangfireSetup
{
    public const string DashboardPath = "/hangfire";
    public const string DashboardPolicy = "hangfire-dashboard";

    public static IServiceCollection AddWapBridgeHangfire(this IServiceCollection services, DatabaseOptions database, string dataDir, HangfireOptions options, string nodeId)
    {
        // AddHangfire keeps its storage in a process-wide static (JobStorage.Current). Our own JobStorage registration,
        // made first, wins over Hangfire's, so every client, server and dashboard of this host uses this host's database
        // even when one process runs several hosts (the tests run SQLite and PostgreSQL gateways side by side; before
        // this, one host's campaign jobs could land in the other's store).
        services.AddSingleton<JobStorage>(provider =>
        {
            // Resolving the configuration first points Hangfire's (also global) logging at this host's loggers.
            _ = provider.GetRequiredService<IGlobalConfiguration>();
            return database.ParsedProvider switch
            {
                DatabaseProvider.Postgres => new PostgreSqlStorage(
                    new NpgsqlConnectionFactory(database.ResolveConnectionString(dataDir), new PostgreSqlStorageOptions()),
                    new PostgreSqlStorageOptions { QueuePollInterval = options.QueuePollInterval, PrepareSchemaIfNecessary = true }),
                _ => new SQLiteStorage(Path.Combine(dataDir, "hangfire.db"), new SQLiteStorageOptions { QueuePollInterval = options.QueuePollInterval }),
            };
        });
        // The job activator is global in the same way: without ours, jobs could be built from another host's services.
        services.AddSingleton<JobActivator>(provider => new AspNetCoreJobActivator(provider.GetRequiredService<IServiceScopeFactory>()));
        services.AddSingleton<IJobQueueMonitor, HangfireJobQueueMonitor>();
        services.AddHangfire((provider, config) => config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new SurvivingLogProvider(new AspNetCoreLogProvider(provider.GetRequiredService<ILoggerFactory>()))));
        if (options.ServerEnabled)
            services.AddHangfireServer((_, server) =>
            {
                server.WorkerCount = Math.Max(1, options.WorkerCount);
                server.SchedulePollingInterval = options.SchedulePollingInterval;
                server.Queues = [HangfireCampaignScheduler.Queue, HangfireCampaignScheduler.LegacyQueueFor(nodeId), "default"];
            });
        return services;
    }

    /// <summary>Maintenance jobs that every node may run; Hangfire makes sure each fires once per schedule.</summary>
    public static void ScheduleMaintenanceJobs(IRecurringJobManager jobs)
    {
        jobs.AddOrUpdate<IdempotencyStore>("purge-idempotency-keys", store => store.PurgeExpiredAsync(CancellationToken.None), Cron.Hourly());
        jobs.AddOrUpdate<MediaRetention>("purge-old-media", retention => retention.Purge(), Cron.Hourly());
    }

    public static void MapWapBridgeHangfireDashboard(this IEndpointRouteBuilder app) =>
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            // The endpoint policy signs the user in (or redirects to login); the filter re-checks the role for Hangfire's own requests.
            Authorization = [new AdminOnlyDashboardFilter()],
            DashboardTitle = "WapBridge jobs",
            AppPath = "/",
        }).RequireAuthorization(DashboardPolicy);

    /// <summary>
    /// Hangfire's log provider is process-wide too: the last host to configure Hangfire owns it. When that host stops
    /// and disposes its loggers while another host in the process still runs (the tests), asking it for a logger
    /// throws; this answers a silent logger instead, so the surviving host keeps working.
    /// </summary>
    private sealed class SurvivingLogProvider(ILogProvider inner) : ILogProvider
    {
        public ILog GetLogger(string name)
        {
            try
            {
                return inner.GetLogger(name);
            }
            catch (ObjectDisposedException)
            {
                return SilentLog.Instance;
            }
        }
    }

    private sealed class SilentLog : ILog
    {
        public static readonly SilentLog Instance = new();
        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }

    private sealed class AdminOnlyDashboardFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);
    }
}
