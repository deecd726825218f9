namespace WapBridge.Core.Messaging;

/// <summary>A media file kept in the database (PostgreSQL clusters), named by the SHA-256 of its bytes.</summary>
public sealed class MediaBlob
{
    public string Hash { get; set; } = "";
    public long Size { get; set; }
    public int ChunkCount { get; set; }
    /// <summary>When it was last stored: the retention clock (<see cref="IMediaStore.PurgeOlderThan"/>).</summary>
    public DateTimeOffset StoredAt { get; set; }
}

/// <summary>One slice of a <see cref="MediaBlob"/>: files move in and out a chunk at a time, never whole in memory.</summary>
public sealed class MediaChunk
{
    public string Hash { get; set; } = "";
    public int Index { get; set; }
    public byte[] Data { get; set; } = [];
}
