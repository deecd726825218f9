using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WapBridge.Core.Common;

/// <summary>
/// Options bound from a configuration section and checked when the host starts: a setting that makes no sense stops
/// the start with a message naming it as the user writes it, instead of failing later on the first request or job.
/// </summary>
public static class ValidatedOptions
{
    /// <summary>Binds <paramref name="section"/> to <typeparamref name="T"/>; <paramref name="problems"/> lists what is wrong, each naming its setting (see <see cref="Setting"/>).</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, IConfiguration section, Func<T, IEnumerable<string>> problems)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new Validator<T>(problems));
        return services.AddOptions<T>().Bind(section).ValidateOnStart();
    }

    /// <summary>
    /// A setting as both of its spellings: <c>WapBridge:Node</c> and <c>Id</c> give
    /// <c>WAPBRIDGE_Node__Id (WapBridge:Node:Id)</c>, the environment variable first since that is what the README documents.
    /// </summary>
    public static string Setting(string section, string key)
    {
        var path = section + ":" + key;
        var variable = path.StartsWith("WapBridge:", StringComparison.Ordinal) ? "WAPBRIDGE_" + path["WapBridge:".Length..].Replace(":", "__", StringComparison.Ordinal) : path.Replace(":", "__", StringComparison.Ordinal);
        return $"{variable} ({path})";
    }

    private sealed class Validator<T>(Func<T, IEnumerable<string>> problems) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            if (name != Options.DefaultName)
                return ValidateOptionsResult.Skip;
            var found = problems(options).ToList();
            return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
        }
    }
}
