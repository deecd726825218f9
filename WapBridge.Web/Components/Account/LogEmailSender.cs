using Microsoft.AspNetCore.Identity;
using WapBridge.Core.Accounts;

namespace WapBridge.Web.Components.Account;

/// <summary>
/// WapBridge sends no e-mail of its own: account links go to the server log, where the operator
/// can pass them on. Warning level so they show with the default log configuration.
/// </summary>
internal sealed class LogEmailSender(ILogger<LogEmailSender> logger) : IEmailSender<WapBridgeUser>
{
    public Task SendConfirmationLinkAsync(WapBridgeUser user, string email, string confirmationLink)
    {
        logger.LogWarning("Account confirmation link for {Email}: {Link}", email, confirmationLink);
        return Task.CompletedTask;
    }

    public Task SendPasswordResetLinkAsync(WapBridgeUser user, string email, string resetLink)
    {
        logger.LogWarning("Password reset link for {Email}: {Link}", email, resetLink);
        return Task.CompletedTask;
    }

    public Task SendPasswordResetCodeAsync(WapBridgeUser user, string email, string resetCode)
    {
        logger.LogWarning("Password reset code for {Email}: {Code}", email, resetCode);
        return Task.CompletedTask;
    }
}
