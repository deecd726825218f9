using WapBridge.Core.Accounts;

namespace WapBridge.Web.Hosting;

/// <summary>
/// Once the server listens: when it has customers but no Admin user (set up through the admin token), logs a one-time
/// setup token for the operator to register the Admin with, since registering no longer makes the first visitor Admin.
/// </summary>
public sealed class SetupTokenAnnouncer(SetupTokens tokens, ServerPublicUrls urls, ILogger<SetupTokenAnnouncer> logger) : IHostedLifecycleService
{
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!await tokens.AdminMissingAsync(cancellationToken))
            return;
        var token = await tokens.CreateAsync(cancellationToken);
        logger.LogWarning(
            "This server has customers but no Admin user. Register its Admin at {RegisterUrl} with the one-time setup token {SetupToken} "
            + "(valid until {ExpiresAt:u}; the admin API's create_setup_token makes another)",
            urls.SiteBaseUrl.TrimEnd('/') + "/Account/Register", token.Token, token.ExpiresAt);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
