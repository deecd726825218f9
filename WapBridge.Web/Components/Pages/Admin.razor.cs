using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;
using WapBridge.Core.Accounts;
using WapBridge.Core.Common;
using WapBridge.Web.Components.Account;
using WapBridge.Web.Components.Shared;
using WapBridge.Web.Hosting;

namespace WapBridge.Web.Components.Pages;

public partial class Admin
{
    [Inject] private CustomerService Customers { get; set; } = default!;
    [Inject] private IServiceScopeFactory ScopeFactory { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private ServerPublicUrls PublicUrls { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;

    private const int CustomerPageSize = 500;

    private IReadOnlyList<CustomerSummary> customers = [];
    private int customerTotal;
    private IReadOnlyList<UserSummary> users = [];
    private bool busy;

    private string? customerName;
    private string? customerEmail;
    private string? customerError;

    private string? userEmail;
    private string? userPassword;
    private int? userCustomerId;
    private IReadOnlyList<string> userErrors = [];

    private string? currentUserId;
    private UserSummary? managed;
    private bool roleAdmin, roleOwner, confirmDelete;
    private string? resetLink;
    private IReadOnlyList<string> userChangeErrors = [];

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        currentUserId = (await AuthenticationState).User.UserId();
        await LoadAsync();
    }

    private static string Access(UserSummary u) =>
        u.IsDisabled ? "disabled" : u.IsLockedOut && u.LockoutEnd is { } end ? $"locked out until {Format(end)}" : "active";

    private void Manage(UserSummary u)
    {
        managed = u;
        roleAdmin = u.Roles.Contains(Roles.Admin);
        roleOwner = u.Roles.Contains(Roles.Owner);
        confirmDelete = false;
        resetLink = null;
        userChangeErrors = [];
    }

    private void CloseManaged()
    {
        managed = null;
        resetLink = null;
    }

    /// <summary>Runs one change on the managed user in a fresh scope, then reloads the list and keeps the panel on that user.</summary>
    private async Task ChangeAsync(Func<UserAdministration, string, string, Task<UserChangeResult>> change, string done)
    {
        if (managed is not { } m || currentUserId is null)
            return;
        busy = true;
        userChangeErrors = [];
        try
        {
            UserChangeResult result;
            await using (var scope = ScopeFactory.CreateAsyncScope())
                result = await change(scope.ServiceProvider.GetRequiredService<UserAdministration>(), currentUserId, m.Id);
            if (!result.Succeeded)
            {
                userChangeErrors = result.Errors;
                return;
            }
            Snackbar.Add($"{m.Email}: {done}", Severity.Success);
            await LoadAsync();
            managed = users.FirstOrDefault(u => u.Id == m.Id);
            confirmDelete = false;
        }
        finally
        {
            busy = false;
        }
    }

    private Task SaveRolesAsync()
    {
        var chosen = new List<string>();
        if (roleAdmin) chosen.Add(Roles.Admin);
        if (roleOwner) chosen.Add(Roles.Owner);
        return ChangeAsync((admin, me, id) => admin.SetRolesAsync(me, id, chosen), "roles saved");
    }

    private Task DisableAsync() => ChangeAsync((admin, me, id) => admin.DisableAsync(me, id), "disabled");

    private Task UnlockAsync() => ChangeAsync((admin, me, id) => admin.UnlockAsync(me, id), "can log in again");

    private Task DeleteAsync() => ChangeAsync((admin, me, id) => admin.DeleteAsync(me, id), "deleted");

    private async Task CreateResetLinkAsync()
    {
        if (managed is not { } m || currentUserId is null)
            return;
        PasswordResetToken? token;
        await using (var scope = ScopeFactory.CreateAsyncScope())
            token = await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreatePasswordResetTokenAsync(currentUserId, m.Id);
        if (token is null)
        {
            userChangeErrors = ["This user no longer exists."];
            return;
        }
        resetLink = PasswordResetLinks.Build(PublicUrls.SiteBaseUrl, token.Token, token.Email);
    }

    private async Task CopyResetLinkAsync()
    {
        if (resetLink is not null && await JS.InvokeAsync<bool>("wapbridge.copy", resetLink))
            Snackbar.Add("Reset link copied", Severity.Success);
        else
            Snackbar.Add("Could not copy the link: select it and copy it by hand.", Severity.Warning);
    }

    private async Task LoadAsync()
    {
        (customers, customerTotal) = await Customers.ListAsync(CustomerPageSize, 0);
        // A scope per operation: the Identity stores track entities, and a circuit lives for hours.
        await using var scope = ScopeFactory.CreateAsyncScope();
        users = await scope.ServiceProvider.GetRequiredService<UserAdministration>().ListUsersAsync();
    }

    private async Task CreateCustomerAsync()
    {
        busy = true;
        customerError = null;
        try
        {
            var customer = await Customers.CreateAsync(customerName, customerEmail);
            Snackbar.Add($"Customer {customer.Code} created", Severity.Success);
            customerName = customerEmail = null;
            await LoadAsync();
        }
        catch (WapBridgeException e)
        {
            customerError = e.Message;
        }
        finally
        {
            busy = false;
        }
    }

    private async Task CreateUserAsync()
    {
        userErrors = [];
        if (userCustomerId is not { } customerId)
        {
            userErrors = ["Choose the customer the user belongs to."];
            return;
        }
        busy = true;
        try
        {
            UserCreationResult result;
            await using (var scope = ScopeFactory.CreateAsyncScope())
                result = await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateOwnerAsync(userEmail, userPassword, customerId);
            if (!result.Succeeded)
            {
                userErrors = result.Errors;
                return;
            }
            Snackbar.Add($"User {result.User!.Email} added", Severity.Success);
            userEmail = userPassword = null;
            await LoadAsync();
        }
        finally
        {
            busy = false;
        }
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
}
