using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace WapBridge.Core.Engines.Baileys;

/// <summary>Forwards a bridge process's stderr to the logger: one JSON log object per line when it can, any other line as it is.</summary>
internal sealed class BridgeStderrLog(Stream stderr, int number, int maxLineBytes, ILogger logger)
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public async Task ForwardAsync()
    {
        try
        {
            var reader = new ProtocolLineReader(stderr, maxLineBytes);
            while (await reader.ReadLineAsync() is { } line)
                if (line.Bytes.Length > 0)
                    LogBridgeLine(line.TooLong ? Utf8.GetString(line.Bytes) + $"… ({line.BytesSoFar}+ bytes, cut)" : Utf8.GetString(line.Bytes));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private void LogBridgeLine(string line)
    {
        var level = LogLevel.Information;
        string? text = line;
        string? session = null;
        if (line.StartsWith('{'))
        {
            try
            {
                var entry = JsonSerializer.Deserialize<JsonElement>(line);
                text = BridgeProcess.Str(entry, "msg") ?? line;
                session = BridgeProcess.Str(entry, "session");
                level = entry.TryGetProperty("level", out var l) ? ParseLevel(l) : LogLevel.Information;
            }
            catch (JsonException)
            {
            }
        }
        logger.Log(level, "Baileys bridge #{Number} {BridgeSession}: {BridgeMessage}", number, session ?? "-", BridgeProcess.Truncate(text, 2000));
    }

    private static LogLevel ParseLevel(JsonElement level)
    {
        // pino writes numeric levels (10 trace … 60 fatal); others write names.
        if (level.ValueKind == JsonValueKind.Number && level.TryGetInt32(out var n))
            return n switch { <= 10 => LogLevel.Trace, <= 20 => LogLevel.Debug, <= 30 => LogLevel.Information, <= 40 => LogLevel.Warning, <= 50 => LogLevel.Error, _ => LogLevel.Critical };
        return (level.ValueKind == JsonValueKind.String ? level.GetString() : null)?.ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warn" or "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "fatal" => LogLevel.Critical,
            _ => LogLevel.Information,
        };
    }
}
