using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CloudApiCallbackDedupe : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_CloudApiCallbacks_InstanceId",
                table: "CloudApiCallbacks");

            migrationBuilder.AddColumn<string>(
                name: "BodySha256",
                table: "CloudApiCallbacks",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_CloudApiCallbacks_InstanceId_BodySha256",
                table: "CloudApiCallbacks",
                columns: new[] { "InstanceId", "BodySha256" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_CloudApiCallbacks_InstanceId_BodySha256",
                table: "CloudApiCallbacks");

            migrationBuilder.DropColumn(
                name: "BodySha256",
                table: "CloudApiCallbacks");

            migrationBuilder.CreateIndex(
                name: "IX_CloudApiCallbacks_InstanceId",
                table: "CloudApiCallbacks",
                column: "InstanceId");
        }
    }
}
