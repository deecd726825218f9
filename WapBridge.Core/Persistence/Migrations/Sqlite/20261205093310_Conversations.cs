using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Conversations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Chat",
                table: "Messages",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Content",
                table: "Messages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Mentions",
                table: "Messages",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "QuotedId",
                table: "Messages",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TargetId",
                table: "Messages",
                type: "TEXT",
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
        }
    }
}
