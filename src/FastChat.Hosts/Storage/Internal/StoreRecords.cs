using System.Data.Common;

namespace FastChat.Hosts.Storage.Internal;

// Builds records from rows that both stores' queries return in the same shape: the SQLite and PostgreSQL statements
// select the same columns in the same order. Times are read by the caller, because the two databases store them
// differently (UTC ticks, timestamptz).
internal static class StoreRecords
{
    // kdf_algorithm, kdf_salt, kdf_iterations, server_salt, auth_key_hash, agreement_public_key, signing_public_key,
    // wrapped_private_keys (columns 0-7), then created_at.
    public static Account ReadAccount(DbDataReader reader, string userName, DateTime createdAt) => new(
        userName,
        reader.GetString(0),
        reader.GetFieldValue<byte[]>(1),
        reader.GetInt32(2),
        reader.GetFieldValue<byte[]>(3),
        reader.GetFieldValue<byte[]>(4),
        reader.GetFieldValue<byte[]>(5),
        reader.GetFieldValue<byte[]>(6),
        reader.GetFieldValue<byte[]>(7),
        createdAt);

    // group_name, epoch, sender, envelope: the envelopes of one member.
    public static GroupKeyEnvelopeRecord ReadEnvelope(DbDataReader reader, string member) => new(
        reader.GetString(0),
        member,
        reader.GetInt32(1),
        reader.GetString(2),
        reader.GetFieldValue<byte[]>(3));
}
