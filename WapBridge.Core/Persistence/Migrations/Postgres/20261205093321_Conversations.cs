using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Conversations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "Events",
                table: "WebhookEndpoints",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(300)",
                oldMaxLength: 300);

            migrationBuilder.AddColumn<string>(
                name: "Chat",
                table: "Messages",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Content",
                table: "Messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Mentions",
                table: "Messages",
                type: "character varying(2000)",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "QuotedId",
                table: "Messages",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TargetId",
                table: "Messages",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            // Every existing message belongs to the conversation with its counterpart: the sender of what came in,
            // the recipient of what went out.
            migrationBuilder.Sql("""UPDATE "Messages" SET "Chat" = CASE WHEN "Direction" = 'inbound' THEN "FromNumber" ELSE "ToNumber" END""");

            migrationBuilder.CreateIndex(
                name: "IX_Messages_InstanceId_Chat_Id",
                table: "Messages",
                columns: new[] { "InstanceId", "Chat", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Messages_InstanceId_Chat_Id",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "Chat",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "Content",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "Mentions",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "QuotedId",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "TargetId",
                table: "Messages");

            migrationBuilder.AlterColumn<string>(
                name: "Events",
                table: "WebhookEndpoints",
                type: "character varying(300)",
                maxLength: 300,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(1000)",
                oldMaxLength: 1000);
        }
    }
}
