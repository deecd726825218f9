using System.Security.Cryptography;
using System.Text;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// A simulated phone's reaction, edit, revoke, poll vote, location, contact cards or poll as the inbound message a real
/// engine hands the host for it (the Baileys mapper's shapes), so the host's one inbound path stores and announces it.
/// </summary>
internal static class SimulatedContent
{
    public static InboundEngineMessage Apply(InboundEngineMessage message, SimulatedExtras extras, string? text)
    {
        if (extras.ReactionTo is { } reactionTo)
            return message with { Type = "reaction", Body = extras.Emoji ?? "", Reaction = new EngineReaction(extras.Emoji ?? "", WhatsAppIds.WaIdOf(reactionTo)) };
        if (extras.EditOf is { } editOf)
            return message with { Edit = new EngineEdit(WhatsAppIds.WaIdOf(editOf), text ?? "") };
        if (extras.RevokeOf is { } revokeOf)
            return message with { Type = "revoked", Body = null, RevokedId = WhatsAppIds.WaIdOf(revokeOf) };
        if (extras.PollId is { } pollId)
        {
            var chosen = extras.PollOptions ?? [];
            return message with { Body = null, PollVote = new EnginePollVote(WhatsAppIds.WaIdOf(pollId), true, chosen, chosen.Select(OptionHash).ToList()) };
        }
        if (extras.Location is { } location)
            return message with { Type = "location", Body = location.Name ?? "", Location = location };
        if (extras.Contacts is { Count: > 0 } contacts)
        {
            var cards = contacts.Select(VCard).ToList();
            return message with { Type = cards.Count == 1 ? "vcard" : "multi_vcard", Body = cards[0], VCards = cards };
        }
        if (extras.Poll is { } poll)
            return message with { Type = "poll_creation", Body = poll.Name, Poll = poll };
        return message;
    }

    /// <summary>A contact card as WhatsApp phones write it: the number twice, as dialled and as its WhatsApp id (waid).</summary>
    public static string VCard(SimulatedContact contact) =>
        $"BEGIN:VCARD\nVERSION:3.0\nFN:{contact.Name}\nTEL;type=CELL;type=VOICE;waid={contact.Number}:+{contact.Number}\nEND:VCARD";

    // WhatsApp names a poll option in a vote by the SHA-256 of its text.
    private static string OptionHash(string option) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(option)));
}
