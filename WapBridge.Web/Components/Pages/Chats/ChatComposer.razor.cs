using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Web;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Messaging;
using WapBridge.Core.Telemetry;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Chats;

/// <summary>Sends into one chat through the same path as the API (<see cref="MessageService"/>), and tells the contact we are typing.</summary>
public sealed partial class ChatComposer
{
    /// <summary>WhatsApp shows "typing…" for a while after each notice: one every few seconds keeps it up.</summary>
    public static readonly TimeSpan TypingInterval = TimeSpan.FromSeconds(5);

    private static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["message"] = "Message", ["caption"] = "Caption", ["media_data"] = "Attached file", ["mime_type"] = "Attached file's type",
        ["filename"] = "Attached file's name", ["quoted_id"] = "Reply", ["to_number"] = "Conversation", ["instance_id"] = "Instance",
    };

    [Inject] private MessageService Messages { get; set; } = default!;
    [Inject] private ConversationService Conversations { get; set; } = default!;
    [Inject] private IMediaStore MediaStore { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    [Parameter, EditorRequired] public int CustomerId { get; set; }
    [Parameter, EditorRequired] public string InstanceCode { get; set; } = "";
    [Parameter, EditorRequired] public string Chat { get; set; } = "";
    [Parameter] public ChatMessage? ReplyTo { get; set; }

    /// <summary>The chat's 24-hour window on a Cloud API instance; null where no window rule applies.</summary>
    [Parameter] public ChatWindow? Window { get; set; }
    [Parameter] public EventCallback ReplyCleared { get; set; }
    [Parameter] public EventCallback<SendOutcome> Sent { get; set; }

    private sealed record ChosenFile(string Name, string ContentType, long Size, byte[] Data);

    private string? text;
    private ChosenFile? file;
    private string? error;
    private bool busy;
    private DateTimeOffset lastTyping = DateTimeOffset.MinValue;

    private async Task TextChangedAsync(string? value)
    {
        text = value;
        if (string.IsNullOrEmpty(value) || Time.GetUtcNow() - lastTyping < TypingInterval)
            return;
        lastTyping = Time.GetUtcNow();
        try
        {
            await Conversations.SendPresenceAsync(CustomerId, InstanceCode, null, Chat, "composing");
        }
        catch (WapBridgeException)
        {
            // Typing is a courtesy: an engine without presence or a disconnected instance must not get in the way of writing.
        }
    }

    private async Task KeyDownAsync(KeyboardEventArgs e)
    {
        if (e is { Key: "Enter", ShiftKey: false })
            await SendAsync();
    }

    private async Task FileChosenAsync(IBrowserFile? chosen)
    {
        error = null;
        file = null;
        if (chosen is null)
            return;
        if (chosen.Size > SendMessageDialog.MaxFileBytes)
        {
            error = $"{chosen.Name} is {DashboardFormat.Size(chosen.Size)}; the limit here is {DashboardFormat.Size(SendMessageDialog.MaxFileBytes)}.";
            return;
        }
        try
        {
            await using var stream = chosen.OpenReadStream(SendMessageDialog.MaxFileBytes);
            using var buffer = new MemoryStream((int)chosen.Size);
            await stream.CopyToAsync(buffer);
            var contentType = string.IsNullOrWhiteSpace(chosen.ContentType) ? "application/octet-stream" : chosen.ContentType;
            file = new ChosenFile(chosen.Name, contentType, buffer.Length, buffer.ToArray());
        }
        catch (IOException e)
        {
            error = $"Could not read {chosen.Name}: {e.Message}";
        }
    }

    private void RemoveFile() => file = null;

    private async Task SendAsync()
    {
        if (busy || (file is null && string.IsNullOrWhiteSpace(text)))
            return;
        busy = true;
        error = null;
        await using var upload = file is null ? null : MediaStore.BeginUpload(long.MaxValue);
        try
        {
            if (upload is not null)
            {
                await upload.WriteAsync(file!.Data);
                await upload.CompleteAsync();
            }
            // A send of its own, not part of the dashboard connection's trace: its message, send and webhooks share this one.
            using var trace = WapBridgeTelemetry.StartRoot(TraceNames.DashboardSend);
            var outcome = await Messages.SendAsync(new SendRequest(CustomerId, InstanceCode, null, Chat, text, upload, file?.ContentType, file?.Name,
                file is null ? null : text, MessageSources.Dashboard, TimeSpan.Zero, QuotedId: ReplyTo?.SerializedId));
            text = null;
            file = null;
            if (ReplyTo is not null)
                await ReplyCleared.InvokeAsync();
            await Sent.InvokeAsync(outcome);
        }
        catch (WapBridgeException e)
        {
            error = DashboardErrors.Describe(e, Labels);
        }
        finally
        {
            busy = false;
        }
    }
}
