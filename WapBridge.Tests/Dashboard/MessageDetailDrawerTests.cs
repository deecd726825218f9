using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;
using WapBridge.Web.Components.Shared;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The message detail drawer renders the whole record, its error and a working media link.</summary>
public sealed class MessageDetailDrawerTests : IAsyncLifetime
{
    private readonly DashboardComponentContext dash = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => dash.DisposeAsync();

    private static readonly DateTimeOffset Created = new(2026, 3, 4, 10, 15, 30, TimeSpan.Zero);

    private static MessageRecord Failed() => new(
        Id: "true_255755123456@c.us_3EB0ABCDEF0123456789", InstanceId: "INST-01-0000007", Direction: "outbound",
        From: "255700000000", To: "255755123456", Body: "Invoice attached", Type: "image", Caption: "Invoice attached",
        Filename: "invoice.png", MimeType: "image/png", MediaSize: 2048, Status: MessageStatus.Failed, Ack: -1,
        Error: "The recipient is not on WhatsApp", ErrorCode: "not_on_whatsapp", Source: "dashboard", Campaign: "spring-sale",
        CreatedAt: Created, SentAt: Created.AddSeconds(2), DeliveredAt: null, ReadAt: null, MediaHash: "abc123hash");

    private IRenderedComponent<MessageDetailDrawer> Render(MessageRecord message, bool open = true, Action<bool>? openChanged = null) =>
        dash.Ctx.Render<MessageDetailDrawer>(p => p
            .Add(d => d.Message, message)
            .Add(d => d.Open, open)
            .Add(d => d.OpenChanged, EventCallback.Factory.Create<bool>(this, v => openChanged?.Invoke(v))));

    [Fact]
    public void Shows_every_field_the_error_and_timestamps()
    {
        var cut = Render(Failed());

        string Field(string name) => cut.Find($"[data-testid=detail-{name}]").TextContent.Trim();
        Assert.Equal("true_255755123456@c.us_3EB0ABCDEF0123456789", Field("id"));
        Assert.Equal("INST-01-0000007", Field("instance"));
        Assert.Equal("255700000000", Field("from"));
        Assert.Equal("255755123456", Field("to"));
        Assert.Equal("image", Field("type"));
        Assert.Equal("Invoice attached", Field("caption"));
        Assert.Equal("invoice.png", Field("filename"));
        Assert.Equal("image/png", Field("mime-type"));
        Assert.Equal("2 KB", Field("media-size"));
        Assert.Equal("-1", Field("ack"));
        Assert.Equal("dashboard", Field("source"));
        Assert.Equal("spring-sale", Field("campaign"));
        Assert.Equal("not_on_whatsapp", Field("error-code"));
        Assert.Equal("2026-03-04 10:15:30 UTC", Field("created"));
        Assert.Equal("2026-03-04 10:15:32 UTC", Field("sent"));
        Assert.Equal("—", Field("delivered"));
        Assert.Equal("—", Field("read"));
        Assert.Equal("Invoice attached", Field("body"));

        var error = cut.Find("[data-testid=detail-error]");
        Assert.Contains("The recipient is not on WhatsApp", error.TextContent);
        Assert.Equal("not_on_whatsapp", cut.Find("[data-testid=detail-error-code]").TextContent.Trim());
        Assert.Equal("failed", cut.Find("[data-testid=message-status]").TextContent.Trim());
    }

    [Fact]
    public void Media_preview_uses_a_relative_signed_link_to_the_stored_file()
    {
        var cut = Render(Failed());

        var src = cut.Find("[data-testid=media-image]").GetAttribute("src")!;
        Assert.StartsWith(MediaLinks.PathPrefix, src);
        Assert.DoesNotContain("gateway.invalid", src);
        Assert.Equal(src, cut.Find("[data-testid=media-download]").GetAttribute("href"));
        var target = dash.Get<MediaLinks>().Resolve(src[MediaLinks.PathPrefix.Length..]);
        Assert.Equal(new MediaLinkTarget("abc123hash", "image/png", "invoice.png"), target);

        // Re-rendered (as the live list does every few seconds) the link stays the same, so the preview does not reload.
        cut.Render(p => p.Add(d => d.Message, Failed() with { Status = MessageStatus.Failed }));
        Assert.Equal(src, cut.Find("[data-testid=media-image]").GetAttribute("src"));
    }

    [Fact]
    public void Text_messages_have_no_media_or_error_and_audio_gets_a_player()
    {
        var text = Failed() with
        {
            Type = "chat", Caption = null, Filename = null, MimeType = null, MediaSize = null, MediaHash = null, Status = MessageStatus.Read,
            Ack = 3, Error = null, ErrorCode = null, DeliveredAt = Created.AddSeconds(3), ReadAt = Created.AddSeconds(9),
        };
        var cut = Render(text);
        Assert.Empty(cut.FindAll("[data-testid=detail-media]"));
        Assert.Empty(cut.FindAll("[data-testid=detail-error]"));
        Assert.Equal("2026-03-04 10:15:39 UTC", cut.Find("[data-testid=detail-read]").TextContent.Trim());

        var voice = Failed() with { Type = "ptt", MimeType = "audio/ogg", Filename = null, Error = null, ErrorCode = null };
        cut.Render(p => p.Add(d => d.Message, voice));
        Assert.StartsWith(MediaLinks.PathPrefix, cut.Find("[data-testid=media-audio]").GetAttribute("src"));
    }

    [Fact]
    public void Svg_and_html_media_get_no_preview_only_a_download_link()
    {
        foreach (var mime in new[] { "image/svg+xml", "text/html" })
        {
            var cut = Render(Failed() with { MimeType = mime, Filename = null, Error = null, ErrorCode = null });
            Assert.Empty(cut.FindAll("[data-testid=media-image], [data-testid=media-video], [data-testid=media-audio]"));
            var download = cut.Find("[data-testid=media-download]");
            Assert.StartsWith(MediaLinks.PathPrefix, download.GetAttribute("href"));
            Assert.True(download.HasAttribute("download"));
        }
    }

    [Fact]
    public void Shows_a_copyable_trace_id_only_when_the_message_has_one()
    {
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        var copy = dash.Ctx.JSInterop.Setup<bool>("wapbridge.copy", traceId).SetResult(true);
        var cut = Render(Failed() with { TraceParent = $"00-{traceId}-00f067aa0ba902b7-01" });

        Assert.Equal(traceId, cut.Find("[data-testid=detail-trace-id]").TextContent.Trim());
        Assert.Contains("Trace id", cut.Find("[data-testid=detail-fields]").TextContent);
        cut.ClickOn("[data-testid=copy-trace-id]");
        Assert.Single(copy.Invocations);

        var untraced = Render(Failed());
        Assert.Empty(untraced.FindAll("[data-testid=detail-trace-id]"));
        Assert.DoesNotContain("Trace id", untraced.Find("[data-testid=detail-fields]").TextContent);
    }

    [Fact]
    public void Closed_it_renders_nothing_and_the_close_button_reports_closed()
    {
        bool? reported = null;
        var cut = Render(Failed(), openChanged: v => reported = v);
        cut.ClickOn("[data-testid=close-detail]");
        Assert.False(reported);

        var closed = Render(Failed(), open: false);
        Assert.Empty(closed.FindAll("[data-testid=message-detail]"));
    }
}
