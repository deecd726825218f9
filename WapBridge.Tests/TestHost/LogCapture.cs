using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WapBridge.Tests.TestHost;

/// <summary>Everything the host logs, at every level: the rendered message, its template values and any exception.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyList<CapturedLog> Entries => _entries.ToArray();

    /// <summary>All captured text in one string, for "this never appears anywhere in the log" assertions.</summary>
    public string AllText => string.Join("\n", Entries.Select(e => e.AllText));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLog> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value?.ToString())
                : new Dictionary<string, string?>();
            entries.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), values, exception?.ToString()));
        }
    }
}

public sealed record CapturedLog(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, string?> Values, string? Exception)
{
    public string AllText => string.Join("\n", new[] { Message, Exception }.Concat(Values.Values).Where(v => v is not null));
}

/// <summary>A <see cref="WapBridgeApp"/> whose logs a test can read, every category at every level.</summary>
public sealed class CapturingApp(string provider = "sqlite", IDictionary<string, string?>? settings = null, bool kestrel = false, string? dataDir = null)
    : WapBridgeApp(provider, settings, kestrel, dataDir)
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFilter(_ => true).AddProvider(Logs));
    }
}
