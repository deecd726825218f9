namespace WapBridge.Core.Common;

/// <summary>The address clients reach this server at, for links WapBridge hands out (media URLs).</summary>
public interface IPublicUrls
{
    string BaseUrl { get; }
}
