// The web console's Jetty configuration (imported by activemq.xml), rendered as exact text. Pure.
// It follows the distribution's conf/jetty.xml with three differences: the listen address comes from the
// settings (127.0.0.1 unless consoleCidrs open the console), the login file is the rendered one, and the /api
// context is gone: it hosts Jolokia, whose write operations allow code execution on 5.16.x (CVE-2026-34197).
import { StackSettings } from "../settings";
import { xmlEscape } from "./xml";

export function consoleListenAddress(settings: StackSettings): string {
  return settings.consoleCidrs.length > 0 ? "0.0.0.0" : "127.0.0.1";
}

const SECURITY_HEADERS: readonly [string, string][] = [
  ["X-FRAME-OPTIONS", "SAMEORIGIN"],
  ["X-XSS-Protection", "1; mode=block"],
  ["X-Content-Type-Options", "nosniff"],
];

export function renderJettyXml(settings: StackSettings): string {
  const host = consoleListenAddress(settings);
  const headers = SECURITY_HEADERS.map(
    ([name, value]) =>
      `        <bean class="org.eclipse.jetty.rewrite.handler.HeaderPatternRule">\n` +
      `          <property name="pattern" value="*"/>\n` +
      `          <property name="name" value="${name}"/>\n` +
      `          <property name="value" value="${xmlEscape(value)}"/>\n` +
      `        </bean>\n`,
  ).join("");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes. -->
<beans xmlns="http://www.springframework.org/schema/beans" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd">
  <bean id="securityLoginService" class="org.eclipse.jetty.security.HashLoginService">
    <property name="name" value="ActiveMQRealm"/>
    <property name="config" value="\${activemq.conf}/jetty-realm.properties"/>
  </bean>
  <bean id="adminSecurityConstraint" class="org.eclipse.jetty.util.security.Constraint">
    <property name="name" value="BASIC"/>
    <property name="roles" value="admin"/>
    <property name="authenticate" value="true"/>
  </bean>
  <bean id="adminSecurityConstraintMapping" class="org.eclipse.jetty.security.ConstraintMapping">
    <property name="constraint" ref="adminSecurityConstraint"/>
    <property name="pathSpec" value="/,*.action,*.jsp,*.html,*.js,*.css,*.png,*.gif,*.ico"/>
  </bean>
  <bean id="rewriteHandler" class="org.eclipse.jetty.rewrite.handler.RewriteHandler">
    <property name="rules">
      <list>
${headers}      </list>
    </property>
  </bean>
  <bean id="secHandlerCollection" class="org.eclipse.jetty.server.handler.HandlerCollection">
    <property name="handlers">
      <list>
        <ref bean="rewriteHandler"/>
        <bean class="org.eclipse.jetty.webapp.WebAppContext">
          <property name="contextPath" value="/admin"/>
          <property name="resourceBase" value="\${activemq.home}/webapps/admin"/>
          <property name="logUrlOnStart" value="true"/>
        </bean>
        <bean id="defaultHandler" class="org.eclipse.jetty.server.handler.DefaultHandler">
          <property name="serveIcon" value="false"/>
        </bean>
      </list>
    </property>
  </bean>
  <bean id="securityHandler" class="org.eclipse.jetty.security.ConstraintSecurityHandler">
    <property name="loginService" ref="securityLoginService"/>
    <property name="authenticator">
      <bean class="org.eclipse.jetty.security.authentication.BasicAuthenticator"/>
    </property>
    <property name="constraintMappings">
      <list>
        <ref bean="adminSecurityConstraintMapping"/>
      </list>
    </property>
    <property name="handler" ref="secHandlerCollection"/>
  </bean>
  <bean id="contexts" class="org.eclipse.jetty.server.handler.ContextHandlerCollection"/>
  <bean id="jettyPort" class="org.apache.activemq.web.WebConsolePort" init-method="start">
    <property name="host" value="${host}"/>
    <property name="port" value="${settings.ports.console}"/>
  </bean>
  <bean id="Server" depends-on="jettyPort" class="org.eclipse.jetty.server.Server" destroy-method="stop">
    <property name="handler">
      <bean id="handlers" class="org.eclipse.jetty.server.handler.HandlerCollection">
        <property name="handlers">
          <list>
            <ref bean="contexts"/>
            <ref bean="securityHandler"/>
          </list>
        </property>
      </bean>
    </property>
  </bean>
  <bean id="invokeConnectors" class="org.springframework.beans.factory.config.MethodInvokingFactoryBean">
    <property name="targetObject" ref="Server"/>
    <property name="targetMethod" value="setConnectors"/>
    <property name="arguments">
      <list>
        <bean id="Connector" class="org.eclipse.jetty.server.ServerConnector">
          <constructor-arg ref="Server"/>
          <property name="host" value="#{systemProperties['jetty.host']}"/>
          <property name="port" value="#{systemProperties['jetty.port']}"/>
        </bean>
      </list>
    </property>
  </bean>
  <bean id="configureJetty" class="org.springframework.beans.factory.config.MethodInvokingFactoryBean">
    <property name="staticMethod" value="org.apache.activemq.web.config.JspConfigurer.configureJetty"/>
    <property name="arguments">
      <list>
        <ref bean="Server"/>
        <ref bean="secHandlerCollection"/>
      </list>
    </property>
  </bean>
  <bean id="invokeStart" class="org.springframework.beans.factory.config.MethodInvokingFactoryBean"
    depends-on="configureJetty, invokeConnectors">
    <property name="targetObject" ref="Server"/>
    <property name="targetMethod" value="start"/>
  </bean>
</beans>
`;
}
