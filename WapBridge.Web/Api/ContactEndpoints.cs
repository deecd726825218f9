using WapBridge.Core.Contacts;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Web.Api;

public sealed record CheckNumbersArgs([FrappeRequired] List<string?>? Numbers, string? InstanceId, string? FromNumber);

public sealed record GetProfileArgs([FrappeRequired] string? Number, string? InstanceId, string? FromNumber);

public sealed record ResolveLidArgs([FrappeRequired] string? Lid, string? InstanceId, string? FromNumber);

/// <summary><c>resolve_lid</c>'s answer: the LID as <c>&lt;digits&gt;@lid</c> and its phone digits, null when never learned.</summary>
public sealed record ResolvedLid(string Lid, string? Number);

/// <summary>Contract §9 "Contacts": number checks (cached per instance 24 h, shared with sends), profiles and the LID ↔ phone map.</summary>
public static class ContactEndpoints
{
    private const string Prefix = "wap_bridge.api.contacts.";

    public static void MapContactEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapFrappeMethod<CheckNumbersArgs, IReadOnlyList<NumberCheckAnswer>>(Prefix + "check_numbers", FrappeVerbs.PostOnly, ApiPolicies.Customer,
            $"Whether 1 to {ContactDirectory.MaxNumbersPerCall} numbers are on WhatsApp, in order: [{{number, valid, on_whatsapp, jid, lid, error}}]; answers are cached per instance for 24 h and shared with sends",
            (args, call) => Contacts(call).CheckNumbersAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.Numbers!, call.Aborted));

        api.MapFrappeMethod<GetProfileArgs, ContactProfile>(Prefix + "get_profile", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "A WhatsApp user's profile (number: digits or <digits>@lid): {number, lid, push_name, about, picture_url}; kept for an hour",
            (args, call) => Contacts(call).GetProfileAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.Number, call.Aborted));

        api.MapFrappeMethod<ResolveLidArgs, ResolvedLid>(Prefix + "resolve_lid", FrappeVerbs.GetOrPost, ApiPolicies.Customer,
            "The phone number of a LID (<digits>@lid or digits) from what the instance learned: {lid, number} (null when unknown)",
            async (args, call) =>
            {
                var (lid, number) = await Contacts(call).ResolveLidAsync(call.CustomerId, args.InstanceId, args.FromNumber, args.Lid, call.Aborted);
                return new ResolvedLid(lid, number);
            });
    }

    private static ContactDirectory Contacts(FrappeCall call) => call.Service<ContactDirectory>();
}
