namespace FastChat.Client.History;

/// <summary>A recipient's acknowledgement of a sent message, as <see cref="ChatHistory.GetDeliveriesAsync"/> returns it.</summary>
/// <param name="Recipient">The user who acknowledged the message.</param>
/// <param name="DeliveredAt">When the acknowledgement was recorded (UTC, this machine's clock).</param>
public sealed record HistoryDelivery(string Recipient, DateTime DeliveredAt);
