using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace WapBridge.Core.Accounts;

public static class AccountsServiceCollectionExtensions
{
    /// <summary>Customers, API keys, registration and setup tokens. Identity itself (users, sign-in) is the web host's.</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AccountOptions>(configuration.GetSection(AccountOptions.Section));
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<CustomerService>();
        services.AddScoped<RegistrationService>();
        services.AddSingleton<SetupTokens>();
        return services;
    }
}
