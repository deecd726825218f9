using Microsoft.Extensions.DependencyInjection;

namespace WapBridge.Core.Contacts;

public static class ContactsServiceCollectionExtensions
{
    /// <summary>Contacts: the number-check cache every feature shares, number checks, profiles and the LID map.</summary>
    public static IServiceCollection AddContacts(this IServiceCollection services)
    {
        services.AddSingleton<NumberCheckCache>();
        services.AddSingleton<ContactDirectory>();
        return services;
    }
}
