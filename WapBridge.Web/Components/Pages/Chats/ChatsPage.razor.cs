using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Engines.CloudApi;
using WapBridge.Core.Instances;
using WapBridge.Core.Live;
using WapBridge.Core.Messaging;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Web.Components.Pages.Chats;

/// <summary>
/// Conversations of one instance and the open one's thread, from <see cref="ChatQueries"/>, kept current by
/// <see cref="LiveChanges"/>: a message received, sent or walked on in status re-reads what is shown.
/// </summary>
public sealed partial class ChatsPage : IDisposable
{
    public const int ChatsPageSize = 50;
    public const int ThreadPageSize = 50;

    [Inject] private ChatQueries Queries { get; set; } = default!;
    [Inject] private ConversationService Conversations { get; set; } = default!;
    [Inject] private InstanceService InstanceService { get; set; } = default!;
    [Inject] private CloudApiDashboard CloudApi { get; set; } = default!;
    [Inject] private LiveChanges Live { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    /// <summary>WhatsApp repeats "typing" every few seconds while it lasts: without news for this long, it stopped.</summary>
    public static readonly TimeSpan TypingShownFor = TimeSpan.FromSeconds(15);

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Parameter] public string? Instance { get; set; }
    [Parameter] public string? Chat { get; set; }

    private int? customerId;
    private IReadOnlyList<InstanceDetails> instances = [];
    private string? instanceCode;
    private IReadOnlyList<ChatSummary> chats = [];
    private int totalChats;
    private int chatsShown = ChatsPageSize;
    private string? selected;
    private string title = "";
    private ChatThread? thread;
    private int threadShown = ThreadPageSize;
    private ChatMessage? replyTo;
    private ChatWindow? window;
    private string? loadError;
    private LiveSubscription? live;
    private bool disposed;
    private string? typingState;
    private ITimer? typingClock;

    protected override async Task OnInitializedAsync()
    {
        customerId = (await AuthenticationState).User.CustomerId();
        if (customerId is not { } id)
            return;
        instances = (await InstanceService.ListAsync(id, Paging.From(Paging.MaxLimit, 0))).Data;
        // Only a live circuit follows changes: a prerender is gone before any arrives.
        if (RendererInfo.IsInteractive)
            live = Live.Subscribe(LiveInterest.ForCustomer(id, LiveTopics.Messages, LiveTopics.Presence), OnLiveChangesAsync);
    }

    private Task OnLiveChangesAsync(IReadOnlyCollection<LiveChange> changes)
    {
        var typing = changes.Select(LiveNotices.ReadPresence).LastOrDefault(p => p is { } seen && seen.Instance == instanceCode && seen.Chat == selected);
        if (typing is { } presence)
            _ = InvokeAsync(() => ShowPresence(presence.State));
        return changes.Any(c => c.Topic == LiveTopics.Messages && (c.Subject is null || c.Subject == instanceCode)) ? InvokeAsync(RefreshAsync) : Task.CompletedTask;
    }

    /// <summary>The open chat's contact types or records; any other state (paused, available, …) ends it.</summary>
    private void ShowPresence(string state)
    {
        if (disposed)
            return;
        typingState = state is EnginePresence.Composing or EnginePresence.Recording ? state : null;
        typingClock?.Dispose();
        // A clock, not a poll: it only hides the indicator when no news came.
        typingClock = typingState is null ? null : Time.CreateTimer(_ => InvokeAsync(() => ShowPresence(EnginePresence.Paused)), null, TypingShownFor, Timeout.InfiniteTimeSpan);
        StateHasChanged();
    }

    private string? TypingText => typingState switch
    {
        EnginePresence.Composing => "typing…",
        EnginePresence.Recording => "recording audio…",
        _ => null,
    };

    protected override async Task OnParametersSetAsync()
    {
        if (customerId is null || instances.Count == 0)
            return;
        var wanted = instances.FirstOrDefault(i => string.Equals(i.InstanceId, Instance, StringComparison.OrdinalIgnoreCase))?.InstanceId
            ?? instanceCode ?? (instances.FirstOrDefault(i => i.Status == InstanceState.Connected) ?? instances[0]).InstanceId;
        if (Instance is not null && !string.Equals(wanted, Instance, StringComparison.OrdinalIgnoreCase))
            loadError = $"Instance {Instance} is not one of yours; showing {wanted}.";
        instanceCode = wanted;
        selected = Instance is not null && loadError is null && !string.IsNullOrWhiteSpace(Chat) ? Uri.UnescapeDataString(Chat) : selected;
        await LoadChatsAsync();
        if (selected is not null)
            await OpenAsync(selected);
    }

    private async Task LoadChatsAsync()
    {
        var page = await Queries.ListAsync(customerId!.Value, instanceCode, Paging.From(chatsShown, 0));
        chats = page.Data;
        totalChats = page.Total;
    }

    private async Task OpenAsync(string chat)
    {
        if (chat != selected)
        {
            typingState = null;
            typingClock?.Dispose();
            typingClock = null;
        }
        selected = chat;
        var summary = chats.FirstOrDefault(c => c.Chat == chat);
        title = summary is null ? ChatList.ChatLabel(chat) : ChatList.Title(summary);
        try
        {
            thread = await Queries.ThreadAsync(customerId!.Value, instanceCode, chat, null, threadShown);
            // A group not listed yet (no messages, or further down the list) is still named by its subject.
            if (summary is null && thread.Subject is { } subject)
                title = subject;
        }
        catch (WapBridgeException e) when (e.Kind == ErrorKind.NotFound)
        {
            // A deep link to a chat with no messages yet: an empty thread to start it.
            thread = new ChatThread(instanceCode!, chat, [], false);
        }
        // Read with the thread: the contact's message that just arrived is what opened it.
        window = await CloudApi.ChatWindowAsync(customerId!.Value, instanceCode!, chat);
        if (summary is { Unread: > 0 })
            await MarkReadAsync(chat);
    }

    private string? InstanceTimeZone => instances.FirstOrDefault(i => i.InstanceId == instanceCode)?.TimeZone;

    /// <summary>Opening a thread reads it: on WhatsApp (blue ticks for the contact) and in our unread counts.</summary>
    private async Task MarkReadAsync(string chat)
    {
        try
        {
            if (await Conversations.MarkReadAsync(customerId!.Value, null, instanceCode, chat) > 0)
                await LoadChatsAsync();
        }
        catch (WapBridgeException e)
        {
            loadError = "Could not mark this chat read: " + DashboardErrors.Describe(e, new Dictionary<string, string>());
        }
    }

    private async Task RefreshAsync()
    {
        if (disposed || customerId is null || instanceCode is null)
            return;
        try
        {
            await LoadChatsAsync();
            if (selected is not null)
                await OpenAsync(selected);
        }
        catch (WapBridgeException e)
        {
            loadError = DashboardErrors.Describe(e, new Dictionary<string, string>());
        }
        StateHasChanged();
    }

    private async Task InstanceChangedAsync(string? code)
    {
        instanceCode = code;
        selected = null;
        thread = null;
        window = null;
        replyTo = null;
        loadError = null;
        chatsShown = ChatsPageSize;
        Navigation.NavigateTo("/chats", replace: true);
        await LoadChatsAsync();
    }

    private async Task SelectAsync(ChatSummary chat)
    {
        replyTo = null;
        threadShown = ThreadPageSize;
        loadError = null;
        Navigation.NavigateTo($"/chats/{Uri.EscapeDataString(chat.InstanceId)}/{Uri.EscapeDataString(chat.Chat)}");
        await OpenAsync(chat.Chat);
    }

    private void BackAsync()
    {
        selected = null;
        thread = null;
        window = null;
        replyTo = null;
        Navigation.NavigateTo("/chats");
    }

    private async Task MoreChatsAsync()
    {
        chatsShown = Math.Min(chatsShown + ChatsPageSize, Paging.MaxLimit);
        await LoadChatsAsync();
    }

    private async Task OlderAsync()
    {
        threadShown = Math.Min(threadShown + ThreadPageSize, ChatQueries.MaxThreadPage);
        if (selected is not null)
            await OpenAsync(selected);
    }

    private async Task ReactAsync((ChatMessage Message, string Emoji) reaction)
    {
        try
        {
            await Conversations.SendReactionAsync(customerId!.Value, reaction.Message.SerializedId, reaction.Emoji, TimeSpan.Zero);
            await RefreshAsync();
        }
        catch (WapBridgeException e)
        {
            loadError = "Could not react: " + DashboardErrors.Describe(e, new Dictionary<string, string>());
        }
    }

    public void Dispose()
    {
        disposed = true;
        live?.Dispose();
        typingClock?.Dispose();
    }
}
