using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OverviewIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_WebhookDeliveries_CustomerId_State_CreatedAt",
                table: "WebhookDeliveries",
                columns: new[] { "CustomerId", "State", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Messages_CustomerId_CreatedAt",
                table: "Messages",
                columns: new[] { "CustomerId", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_WebhookDeliveries_CustomerId_State_CreatedAt",
                table: "WebhookDeliveries");

            migrationBuilder.DropIndex(
                name: "IX_Messages_CustomerId_CreatedAt",
                table: "Messages");
        }
    }
}
