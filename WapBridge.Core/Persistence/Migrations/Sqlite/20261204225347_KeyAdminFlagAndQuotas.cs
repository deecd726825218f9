using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class KeyAdminFlagAndQuotas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "MaxInstances",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "MaxMediaBytesPerMessage",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "MaxRecipientsPerCampaign",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "IsAdmin",
                table: "ApiKeys",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            // Keys made by an Admin's dashboard session used to be admin keys implicitly; keep the operators' automation working.
            migrationBuilder.Sql(
                """
                UPDATE "ApiKeys" SET "IsAdmin" = 1
                WHERE "CreatedByUserId" IN (
                    SELECT ur."UserId" FROM "AspNetUserRoles" ur JOIN "AspNetRoles" r ON r."Id" = ur."RoleId" WHERE r."Name" = 'Admin')
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "MaxInstances",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "MaxMediaBytesPerMessage",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "MaxRecipientsPerCampaign",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "IsAdmin",
                table: "ApiKeys");
        }
    }
}
