using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WapBridge.Tests.TestHost;

public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";

    /// <summary>The <c>message.id</c> of a message event's body; null for other events or a body that is not JSON.</summary>
    public string? MessageId()
    {
        try { return JsonNode.Parse(Body)?["message"]?["id"]?.GetValue<string>(); }
        catch (JsonException) { return null; }
    }
}

/// <summary>A real HTTP server on 127.0.0.1 that records webhooks and answers what the test tells it to.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    /// <summary>Decides each answer; default 200. Return a delay to simulate a slow receiver.</summary>
    public Func<ReceivedWebhook, (int Status, TimeSpan Delay, IDictionary<string, string>? Headers)> Respond { get; set; } = _ => (200, TimeSpan.Zero, null);

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToList();
    public string Url => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";

    private WebhookReceiver(WebApplication app) => _app = app;

    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var received = new ReceivedWebhook(context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
                await reader.ReadToEndAsync(), DateTimeOffset.UtcNow);
            receiver._received.Enqueue(received);
            var (status, delay, headers) = receiver.Respond(received);
            if (delay > TimeSpan.Zero)
                await Task.Delay(delay, context.RequestAborted).ContinueWith(_ => { });
            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
                context.Response.Headers[name] = value;
            context.Response.StatusCode = status;
            await context.Response.WriteAsync(status < 300 ? "ok" : "receiver says no");
        });
        await app.StartAsync();
        return receiver;
    }

    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> done, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done(Received))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"webhooks never arrived as expected; got {Received.Count}: {string.Join(" | ", Received.Select(r => r.Body))}");
            await Task.Delay(25);
        }
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A TCP listener on 127.0.0.1 that accepts connections and never answers: a receiver that hangs. It counts the
/// connections it got, so a test can also show that nothing connected at all.
/// </summary>
public sealed class HangingReceiver : IAsyncDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly ConcurrentBag<System.Net.Sockets.Socket> _accepted = [];
    private readonly Task _accepting;

    public HangingReceiver()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"http://127.0.0.1:{Port}/hook";
    public int Connections => _accepted.Count;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
                _accepted.Add(await _listener.AcceptSocketAsync());
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _accepting;
        foreach (var socket in _accepted)
            socket.Dispose();
    }
}
